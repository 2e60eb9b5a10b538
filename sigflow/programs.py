"""`sigflow.programs`: the shipped programs and their metrics (re-exported)."""

from pipelines.programs import PROGRAMS, RAG, Agent, Classify, MultiHop, ProgramSpec, program_spec

__all__ = ["PROGRAMS", "RAG", "Agent", "Classify", "MultiHop", "ProgramSpec", "program_spec"]

"""`sigflow.programs`: the shipped programs and their metrics (re-exported)."""

from pipelines.programs import PROGRAMS, RAG, Classify, MultiHop, ProgramSpec, program_spec

__all__ = ["PROGRAMS", "RAG", "Classify", "MultiHop", "ProgramSpec", "program_spec"]

"""The job behind `--register` and the demo's publishing: an optimized program logged into its own run and
registered, tagged with how it scored."""

from __future__ import annotations

from pipelines.lm.client import LM
from serving.publish import publish
from serving.registry import VersionInfo
from sigflow.jobs.optimize import OptimizationReport


def publish_optimized(report: OptimizationReport, *, lm: LM, name: str, chat: bool = False) -> VersionInfo:
    """A new version of `name` from the program `report` optimized, logged in the optimization's run (in the
    chat form with `chat`); its first validation example is the model's input example, which the load check
    asks. The model names the prompt versions of its instructions."""
    first = report.final.results[0].example.inputs() if report.final.results else None
    example = {key: str(value) for key, value in first.items()} if first else None
    return publish(report.program, lm=lm, name=name, run_id=report.run_id, scores=report.scores(), example=example,
                   chat=chat, prompts=report.prompts)

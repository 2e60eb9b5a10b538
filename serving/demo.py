"""`sigflow demo`: the main job on the embedded defaults.

Until the programs, optimizers and serving exist it runs the LM door end to end: the embedded model is
assembled and loaded, a few questions are answered through the worker pool, then answered again from the
cache with no LM call.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pipelines import LM, parallel_map, track_usage
from pipelines.settings import cache_dir, local_workers

_QUESTIONS = (
    "What is the capital of Australia?",
    "Who wrote the novel Moby-Dick?",
    "How many legs does a spider have?",
    "What does the abbreviation NATO stand for?",
)
_INSTRUCTION = ("Classify the question by the kind of answer it expects. Reply with one word: "
                "abbreviation, description, entity, human, location or numeric.")


def run_demo(lm_model: str | None, echo: Callable[[str], None]) -> None:
    lm = LM(lm_model, max_tokens=8)
    echo(f"LM: {lm.model}; local workers: {local_workers()}; cache: {cache_dir()}")
    for label in ("first pass", "second pass (cache)"):
        started = time.perf_counter()
        with track_usage() as usage:
            answers = parallel_map(lambda question: _classify(lm, question), _QUESTIONS,
                                   num_threads=len(_QUESTIONS), description=label)
        seconds = time.perf_counter() - started
        for question, answer in zip(_QUESTIONS, answers, strict=True):
            echo(f"  {answer:<14} {question}")
        echo(f"{label}: {usage.calls} LM calls, {usage.cache_hits} cache hits, "
             f"{usage.prompt_tokens}+{usage.completion_tokens} tokens, {seconds:.2f} s")


def _classify(lm: LM, question: str) -> str:
    messages = [{"role": "system", "content": _INSTRUCTION}, {"role": "user", "content": question}]
    return lm.complete(messages).text.strip()

"""Framework overhead of one module call with a scripted LM that answers instantly: formatting the prompt,
the LM door, parsing and coercing the reply. Every call has a new question, so each one takes the cache-miss
path (key, lookup, provider, entry written); the same calls with the cache off, and repeated (cache hits),
are timed apart. The cache is a fresh file in a temporary directory."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.harness import fresh_cache_dir
from pipelines import ChainOfThought, Module, Predict, ScriptedLM

_SIGNATURE = "question -> label: Literal['abbreviation', 'description', 'entity', 'human', 'location', 'numeric']"


def _per_call_microseconds(program: Module, calls: int) -> float:
    started = time.perf_counter()
    for index in range(calls):
        program(question=f"Where is city number {index}?")
    return (time.perf_counter() - started) / calls * 1e6


def _measure(kind: type[Module], fake: ScriptedLM, calls: int) -> dict[str, float]:
    cached, uncached = kind(_SIGNATURE), kind(_SIGNATURE)
    cached.set_lm(fake.lm())
    uncached.set_lm(fake.lm(cache=False))
    miss = _per_call_microseconds(cached, calls)
    return {
        "cache_miss_us": round(miss, 1),
        "cache_hit_us": round(_per_call_microseconds(cached, calls), 1),
        "cache_off_us": round(_per_call_microseconds(uncached, calls), 1),
    }


def run(quick: bool) -> dict[str, Any]:
    calls = 200 if quick else 3000
    reply = "reasoning: A place is asked for.\nlabel: location"
    with fresh_cache_dir(), ScriptedLM(responder=lambda messages: reply) as fake:
        results = {kind.__name__: _measure(kind, fake, calls) for kind in (Predict, ChainOfThought)}
    return {"calls": calls, "modules": results}


def report(result: dict[str, Any]) -> str:
    rows = []
    for module, timings in result["modules"].items():
        for label, key in (("cache miss", "cache_miss_us"), ("cache off", "cache_off_us"),
                           ("cache hit", "cache_hit_us")):
            rows.append(f"| {module} | {label} | {timings[key]} | {1e6 / timings[key]:,.0f} |")
    return "\n".join(["| module | path | µs per call | calls per second |", "|---|---|---:|---:|", *rows, "",
                      f"{result['calls']} calls per row, each with a different question."])

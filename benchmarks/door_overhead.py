"""Time the LM door spends per call on its own, with a scripted provider that answers instantly: a cache hit
(key, SQLite read, usage) and a miss (key, budget, retry wrapper, usage, SQLite write). The cache is a fresh
file in a temporary directory."""

from __future__ import annotations

import time
from typing import Any

from benchmarks.harness import fresh_cache_dir
from pipelines import LM, ScriptedLM, track_usage


def _per_call_microseconds(lm: LM, calls: int, vary: bool) -> float:
    messages = [{"role": "system", "content": "Classify the question."},
                {"role": "user", "content": "What is the capital of Australia?"}]
    started = time.perf_counter()
    for index in range(calls):
        lm.complete(messages if not vary else [*messages, {"role": "user", "content": str(index)}])
    return (time.perf_counter() - started) / calls * 1e6


def run(quick: bool) -> dict[str, Any]:
    calls = 300 if quick else 5000
    with fresh_cache_dir(), ScriptedLM(responder=lambda messages: "ok") as fake:
        lm = fake.lm()
        with track_usage() as usage:
            miss = _per_call_microseconds(lm, calls, vary=True)
            hit = _per_call_microseconds(lm, calls, vary=False)
        no_cache = _per_call_microseconds(fake.lm(cache=False), calls, vary=True)
    return {
        "calls": calls,
        "cache_hit_us": round(hit, 1),
        "cache_miss_us": round(miss, 1),
        "no_cache_us": round(no_cache, 1),
        "cache_hits_counted": usage.cache_hits,
    }


def report(result: dict[str, Any]) -> str:
    return "\n".join([
        "| path | µs per call | calls per second |",
        "|---|---:|---:|",
        *(f"| {label} | {result[key]} | {1e6 / result[key]:,.0f} |" for label, key in (
            ("cache hit", "cache_hit_us"),
            ("cache miss (scripted provider, entry written)", "cache_miss_us"),
            ("cache off (scripted provider)", "no_cache_us"),
        )),
        "",
        f"{result['calls']} calls each; the hit path counted {result['cache_hits_counted']} cache hits.",
    ])

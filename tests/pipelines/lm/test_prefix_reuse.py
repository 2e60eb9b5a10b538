"""Prefix reuse on the real model: a temperature-0 answer depends on its prompt alone, not on which worker
gives it or on what that worker answered before; and shared prefixes are in fact reused."""

import random

import pytest

from pipelines import settings
from pipelines.datasets import TREC_LABELS, load_trec
from pipelines.lm.local.gguf import ensure_model
from pipelines.lm.local.pool import LocalModelPool

pytestmark = pytest.mark.local_lm

SYSTEM = {"role": "system", "content": "Classify the question by the kind of answer it expects. Reply with "
                                       "one word: " + ", ".join(TREC_LABELS.values()) + "."}


def _prompts() -> list[list[dict[str, str]]]:
    """Twelve prompts over three prefixes: eight demos, two demos, and the system message alone."""
    trec = load_trec()
    demos = []
    for row in trec["train"][:8]:
        demos += [{"role": "user", "content": f"question: {row.question}"},
                  {"role": "assistant", "content": f"label: {row.label}"}]
    prefixes = [demos, demos[:4], []]
    return [[SYSTEM, *prefixes[index % 3], {"role": "user", "content": f"question: {row.question}"}]
            for index, row in enumerate(trec["dev"][:12])]


def _answer_all(pool: LocalModelPool, prompts, order) -> tuple[dict[int, str], int]:
    texts, reused = {}, 0
    try:
        for index in order:
            answer = pool.generate(prompts[index], {"temperature": 0, "max_tokens": 6}, timeout=120)
            texts[index] = answer["choices"][0]["message"]["content"]
            reused += answer["usage"]["prompt_tokens_details"]["cached_tokens"]
    finally:
        pool.close()
    return texts, reused


def test_the_same_prompts_in_two_fresh_pools_and_two_orders_give_identical_texts():
    model = ensure_model(settings.model_dir())
    prompts = _prompts()
    order = list(range(len(prompts)))
    shuffled = random.Random(7).sample(order, len(order))
    # Two workers with snapshots, against one worker that keeps no snapshot and so rebuilds each prefix.
    first, reused_first = _answer_all(LocalModelPool(model, workers=2), prompts, order)
    second, reused_second = _answer_all(LocalModelPool(model, workers=1, prefix_cache_bytes=0), prompts, shuffled)
    assert first == second
    assert len(set(first.values())) > 1  # the prompts are answered, not echoed one way
    assert reused_first > 0 and reused_second > 0

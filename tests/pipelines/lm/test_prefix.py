"""Prefix snapshots stay within their byte budget, dropping the least recently used first."""

import ctypes

from pipelines.lm.local.prefix import PrefixStates, SplitPrompt


def _state(size: int) -> ctypes.Array:
    return (ctypes.c_uint8 * size)()


def test_snapshots_past_the_budget_drop_the_least_recently_used():
    states = PrefixStates(max_bytes=250)
    states.put((1,), _state(100))
    states.put((2,), _state(100))
    assert states.get((1,)) is not None  # now the most recent
    states.put((3,), _state(100))
    assert states.get((2,)) is None and states.get((1,)) is not None and states.get((3,)) is not None
    assert states.bytes == 200 and len(states) == 2


def test_a_snapshot_larger_than_the_budget_is_not_kept():
    states = PrefixStates(max_bytes=50)
    states.put((1,), _state(100))
    assert len(states) == 0 and states.bytes == 0


def test_a_budget_of_zero_keeps_nothing():
    states = PrefixStates(max_bytes=0)
    states.put((1,), _state(1))
    assert states.get((1,)) is None


def test_the_prefix_is_the_tokens_before_the_split():
    assert SplitPrompt([5, 6, 7, 8], 2).prefix == (5, 6)

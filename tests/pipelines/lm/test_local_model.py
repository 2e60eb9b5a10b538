"""The embedded model through the whole door: real inference, real worker processes."""

import multiprocessing
import os
import signal
import subprocess
import sys

import pytest

from pipelines import LM, track_usage
from pipelines.lm import LMContextWindowExceeded, LMNotFound, LMTimeout
from pipelines.lm.local.pool import shared_pool

pytestmark = pytest.mark.local_lm

PROMPT = "Reply with one word: what color is the sky on a clear day?"


def test_same_prompt_at_temperature_zero_repeats_within_a_process():
    lm = LM(max_tokens=12)
    first = lm(PROMPT, cache=False)
    second = lm(PROMPT, cache=False)
    assert first == second
    assert "blue" in first[0].lower()


def test_same_prompt_at_temperature_zero_repeats_across_processes():
    here = LM(max_tokens=12)(PROMPT, cache=False)[0]
    script = f"from pipelines import LM; print(LM(max_tokens=12)({PROMPT!r}, cache=False)[0])"
    other = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                           env={**os.environ, "SIGFLOW_LOCAL_WORKERS": "1"}, check=True)
    assert other.stdout.strip() == here.strip()


def test_second_call_is_a_cache_hit_with_no_lm_call():
    lm = LM(max_tokens=12)
    with track_usage() as first_usage:
        first = lm.complete([{"role": "user", "content": PROMPT}])
    with track_usage() as second_usage:
        second = lm.complete([{"role": "user", "content": PROMPT}])
    assert second.text == first.text and second.cached
    assert first_usage.calls == 1 and first_usage.prompt_tokens > 10 and first_usage.completion_tokens >= 1
    assert first_usage.cost == 0.0
    assert second_usage.calls == 0 and second_usage.cache_hits == 1 and second_usage.total_tokens == 0


def test_max_tokens_bounds_the_generation():
    completion = LM(max_tokens=3).complete([{"role": "user", "content": "Count from one to fifty in words."}])
    assert completion.completion_tokens <= 3
    assert completion.finish_reason == "length"


def test_unknown_models_are_typed_errors():
    with pytest.raises(LMNotFound, match="one model"):
        LM("local/no-such-model")("hi")
    with pytest.raises(LMNotFound, match="no provider"):
        LM("no-such-provider/model")("hi")


def test_a_prompt_past_the_context_window_fails_at_once_without_retries():
    with track_usage() as usage, pytest.raises(LMContextWindowExceeded, match="context window"):
        LM(max_tokens=4)("word " * 9000)
    assert usage.calls == 1 and usage.retries == 0


def test_pool_starts_one_process_per_worker():
    pool = shared_pool()
    pids = pool.warm_up()
    assert len(set(pids)) == pool.workers
    assert os.getpid() not in pids


def _ask_three(index: int) -> None:
    lm = LM(max_tokens=6)
    for question in range(3):
        lm(f"Reply with a number only. What is {index} plus {question}?")


def test_four_processes_share_one_cache_without_losing_entries(isolated_state):
    env_before = os.environ.get("SIGFLOW_LOCAL_WORKERS")
    os.environ["SIGFLOW_LOCAL_WORKERS"] = "1"  # four processes, one model each, on two cores
    try:
        context = multiprocessing.get_context("spawn")
        processes = [context.Process(target=_ask_three, args=(index,)) for index in range(4)]
        for process in processes:
            process.start()
        for process in processes:
            process.join(timeout=300)
            assert process.exitcode == 0
    finally:
        if env_before is None:
            del os.environ["SIGFLOW_LOCAL_WORKERS"]
        else:
            os.environ["SIGFLOW_LOCAL_WORKERS"] = env_before
    with track_usage() as usage:
        for index in range(4):
            _ask_three(index)
    assert usage.calls == 0 and usage.cache_hits == 12


def test_a_killed_worker_is_replaced_and_the_call_retried():
    pool = shared_pool()
    killed = pool.warm_up()
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    with track_usage() as usage:
        answer = LM(max_tokens=12, backoff_seconds=0.1)(PROMPT, cache=False)
    assert "blue" in answer[0].lower()
    assert usage.retries >= 1 and usage.failures == 0


def test_a_call_past_its_timeout_is_a_timeout_and_the_worker_restarts():
    with pytest.raises(LMTimeout, match=r"did not answer within 0\.2 s"):
        LM(max_tokens=300, num_retries=0, timeout=0.2)("Write a long story about the sea.", cache=False)
    assert "blue" in LM(max_tokens=12)(PROMPT, cache=False)[0].lower()


def test_a_script_without_a_main_guard_can_use_the_local_model(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(f"from pipelines import LM\nprint(LM(max_tokens=12)({PROMPT!r}, cache=False)[0])\n")
    finished = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                              env={**os.environ, "SIGFLOW_LOCAL_WORKERS": "1"})
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "blue" in finished.stdout.lower()

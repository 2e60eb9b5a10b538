import multiprocessing
import sqlite3
import threading
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pipelines.lm.cache import Cache, cache_key

MESSAGES = [{"role": "user", "content": "What is 2 + 2?"}]


def test_key_ignores_parameter_order():
    assert cache_key("m", MESSAGES, {"temperature": 0, "max_tokens": 5}) == cache_key(
        "m", MESSAGES, {"max_tokens": 5, "temperature": 0})


def test_key_changes_with_everything_that_changes_the_output():
    base = cache_key("m", MESSAGES, {"temperature": 0, "api_base": "http://a"})
    assert cache_key("other", MESSAGES, {"temperature": 0, "api_base": "http://a"}) != base
    other_messages = [{"role": "user", "content": "x"}]
    assert cache_key("m", other_messages, {"temperature": 0, "api_base": "http://a"}) != base
    assert cache_key("m", MESSAGES, {"temperature": 0.7, "api_base": "http://a"}) != base
    assert cache_key("m", MESSAGES, {"temperature": 0, "api_base": "http://b"}) != base
    assert cache_key("m", MESSAGES, {"temperature": 0, "api_base": "http://a", "stop": ["\n"]}) != base


def test_key_ignores_secrets_and_transport_settings():
    base = cache_key("m", MESSAGES, {"temperature": 0})
    secrets = {"api_key": "sk-1", "aws_secret_access_key": "x"}
    assert cache_key("m", MESSAGES, {"temperature": 0, **secrets}) == base
    assert cache_key("m", MESSAGES, {"temperature": 0, "timeout": 30, "num_retries": 5}) == base


@given(st.text(), st.text())
def test_key_is_stable_and_separates_different_messages(first, second):
    key = cache_key("m", [{"role": "user", "content": first}], {})
    assert key == cache_key("m", [{"role": "user", "content": first}], {})
    if first != second:
        assert key != cache_key("m", [{"role": "user", "content": second}], {})


def test_put_then_get_round_trips_json(tmp_path):
    cache = Cache(tmp_path / "c.sqlite3")
    assert cache.get("k") is None
    cache.put("k", "m", {"text": "ünïcode", "n": 3})
    assert cache.get("k") == {"text": "ünïcode", "n": 3}
    assert len(cache) == 1


def test_corrupt_file_is_set_aside_and_replaced(tmp_path, caplog):
    path = tmp_path / "c.sqlite3"
    path.write_bytes(b"this is not a database, it is garbage " * 100)
    cache = Cache(path)
    assert cache.get("k") is None
    assert "unusable" in caplog.text
    assert list(tmp_path.glob("c.sqlite3.corrupt-*")), "the corrupt file should be kept aside, not deleted"
    cache.put("k", "m", {"text": "fresh"})
    assert cache.get("k") == {"text": "fresh"}


def test_file_from_a_newer_sigflow_is_set_aside(tmp_path):
    path = tmp_path / "c.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    cache = Cache(path)
    cache.put("k", "m", {"text": "x"})
    assert cache.get("k") == {"text": "x"}
    assert list(tmp_path.glob("c.sqlite3.corrupt-*"))


def test_unreadable_entry_is_a_miss(tmp_path):
    cache = Cache(tmp_path / "c.sqlite3")
    cache.put("k", "m", {"text": "x"})
    with sqlite3.connect(tmp_path / "c.sqlite3") as db:
        db.execute("UPDATE completions SET value = '{not json' WHERE key = 'k'")
    assert cache.get("k") is None


def test_many_threads_write_without_losing_entries(tmp_path):
    cache = Cache(tmp_path / "c.sqlite3")

    def write(thread: int) -> None:
        for index in range(50):
            cache.put(f"{thread}-{index}", "m", {"text": f"{thread}-{index}"})

    threads = [threading.Thread(target=write, args=(thread,)) for thread in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) == 400
    assert cache.get("7-49") == {"text": "7-49"}


def _write_entries(path: str, process: int, count: int) -> None:
    cache = Cache(Path(path))
    for index in range(count):
        cache.put(f"{process}-{index}", "m", {"text": f"{process}-{index}"})
        cache.get(f"{(process + 1) % 4}-{index}")


def test_four_processes_write_one_file_without_losing_entries(tmp_path):
    path = str(tmp_path / "c.sqlite3")
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_entries, args=(path, process, 250)) for process in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    cache = Cache(Path(path))
    assert len(cache) == 1000
    assert all(cache.get(f"{p}-{i}") == {"text": f"{p}-{i}"} for p in range(4) for i in range(0, 250, 37))


def test_an_unopenable_cache_never_breaks_a_call(tmp_path, monkeypatch, caplog):
    from pipelines import ScriptedLM

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("SIGFLOW_CACHE_DIR", str(blocker))
    with ScriptedLM(["first", "second"]) as fake:
        assert fake.lm()("q") == ["first"]
        assert fake.lm()("q") == ["second"]  # nothing could be cached, so the provider answers again
    assert "LM cache" in caplog.text
    assert blocker.read_text() == "a file where the cache directory should be"

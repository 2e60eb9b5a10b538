import pytest

from pipelines import settings


def test_local_workers_reads_the_environment(monkeypatch):
    monkeypatch.setenv("SIGFLOW_LOCAL_WORKERS", "3")
    assert settings.local_workers() == 3


@pytest.mark.parametrize("value", ["0", "two", "-1", "1.5"])
def test_a_bad_worker_count_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("SIGFLOW_LOCAL_WORKERS", value)
    with pytest.raises(ValueError, match="SIGFLOW_LOCAL_WORKERS must be a whole number"):
        settings.local_workers()


def test_default_model_follows_sigflow_lm(monkeypatch):
    assert settings.default_model() == settings.LOCAL_MODEL
    monkeypatch.setenv("SIGFLOW_LM", "openai/gpt-4o-mini")
    assert settings.default_model() == "openai/gpt-4o-mini"


def test_prefix_cache_size_reads_the_environment(monkeypatch):
    assert settings.prefix_cache_mb() == settings.DEFAULT_PREFIX_CACHE_MB
    monkeypatch.setenv("SIGFLOW_PREFIX_CACHE_MB", "0")
    assert settings.prefix_cache_mb() == 0
    monkeypatch.setenv("SIGFLOW_PREFIX_CACHE_MB", "lots")
    with pytest.raises(ValueError, match="SIGFLOW_PREFIX_CACHE_MB must be a whole number"):
        settings.prefix_cache_mb()

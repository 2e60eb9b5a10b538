"""Joining a shared study: a worker waits for the search's candidates, refuses a study of another search, gives
up with a clear message when no search ever starts, and needs a study other workers can reach."""

import pytest

from pipelines import accuracy
from pipelines.optimizers import MIPRO
from pipelines.optimizers.storage import StudyStore
from pipelines.optimizers.study import StudyMismatch, join_study, open_study, save_space
from tests.pipelines.optimizers.test_mipro import _compile

SETTINGS = {"seed": 0, "startup_trials": 1}


def _journal(tmp_path, name="search") -> StudyStore:
    return StudyStore(str(tmp_path / "search.journal"), name)


def test_a_worker_joins_once_the_candidates_are_saved(tmp_path):
    store = _journal(tmp_path)
    study = open_study(store, directions=["maximize"], resume=False, inputs={"program": "p"}, **SETTINGS)
    with pytest.raises(TimeoutError, match="no search saved its candidates"):
        join_study(store, inputs={"program": "p"}, wait_seconds=0.1, **SETTINGS)  # still bootstrapping
    save_space(study, {"predictors": {}}, {})
    assert join_study(store, inputs={"program": "p"}, wait_seconds=0.1, **SETTINGS).study_name == "search"


def test_a_worker_refuses_the_study_of_another_search(tmp_path):
    store = _journal(tmp_path)
    study = open_study(store, directions=["maximize"], resume=False, inputs={"program": "p"}, **SETTINGS)
    save_space(study, {"predictors": {}}, {})
    with pytest.raises(StudyMismatch, match="program: was 'p', now 'q'"):
        join_study(store, inputs={"program": "q"}, wait_seconds=0.1, **SETTINGS)


def test_no_search_started_is_a_timeout_that_says_what_to_check(tmp_path):
    with pytest.raises(TimeoutError, match="is its first worker running"):
        join_study(_journal(tmp_path), inputs={}, wait_seconds=0.1, **SETTINGS)


def test_joining_needs_a_study_other_workers_reach(tmp_path):
    for study in (None, tmp_path / "own.db"):
        with pytest.raises(ValueError, match="joining a search needs the study it shares"):
            _compile(MIPRO(accuracy("capital"), study=study, join=True))


def test_a_shared_study_is_kept_in_postgresql_or_a_journal_only():
    with pytest.raises(ValueError, match="a shared study needs PostgreSQL"):
        StudyStore("mysql://user@host/db").storage()
    assert StudyStore("postgresql://user:secret@host/db").describe() == "postgresql://user:***@host/db"

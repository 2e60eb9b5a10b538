"""Logging, registering and promoting programs, in process with a scripted LM: the gate on the score."""

import mlflow
import pandas as pd
import pytest

from pipelines import ScriptedLM
from pipelines.programs import Classify
from serving import tracking
from serving.load_check import LoadCheck
from serving.packaging import log_program_model
from serving.registry import PromotionRefused, promote, register, versions


def _version(fake: ScriptedLM, name: str, score: float, metric: str = "accuracy:label") -> str:
    """A version as `publish` leaves it, its load check's tags included (the check itself is tested with
    real processes in test_your_own_program): the score gate is what these tests are about."""
    with tracking.run("publish", {}) as run_id:
        info = log_program_model(Classify(), lm=fake.lm())
    tags = {"dataset": "trec", "metric": metric, "score": score, "optimizer": "mipro", "run_id": run_id,
            **LoadCheck(answered=False, seconds=0.0).tags()}
    return register(info.model_uri, name, tags).version


def test_a_worse_version_is_refused_a_better_one_becomes_champion_and_loads():
    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        first, worse, better = (_version(fake, "trec-classifier", score) for score in (0.5, 0.4, 0.7))
        assert promote("trec-classifier", first)["previous_version"] is None
        with pytest.raises(PromotionRefused, match=r"accuracy:label 0.4000 is below the holder's \(version 1\) 0.5000"):
            promote("trec-classifier", worse)
        moved = promote("trec-classifier", better)
        assert (moved["version"], moved["previous_version"], moved["previous_score"]) == (better, first, 0.5)
        champion = mlflow.pyfunc.load_model("models:/trec-classifier@champion")
        assert champion.metadata.run_id == versions("trec-classifier")[0].run_id
        answers = champion.predict(pd.DataFrame({"question": [f"Question {index}?" for index in range(5)]}))
    assert list(answers["label"]) == ["human"] * 5 and list(answers["error"]) == [""] * 5


def test_a_forced_promotion_is_recorded_with_its_reason():
    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        first, other = _version(fake, "m", 0.5), _version(fake, "m", 0.9, metric="macro_f1:label")
        promote("m", first)
        with pytest.raises(PromotionRefused, match="scored on metric"):
            promote("m", other)
        assert promote("m", other, force=True, reason="new metric")["forced"] is True
    tags = next(info for info in versions("m") if info.version == other).tags
    assert "reason: new metric" in tags["forced_promotion"]


def test_unknown_models_and_versions_are_named():
    with pytest.raises(ValueError, match="no registered model 'nothing'"):
        versions("nothing")
    with ScriptedLM(responder=lambda messages: "label: human") as fake:
        _version(fake, "m", 0.5)
    with pytest.raises(ValueError, match="no version 7 of registered model 'm'"):
        promote("m", "7")


def test_a_version_registered_without_a_load_check_is_not_promoted():
    with ScriptedLM(responder=lambda messages: "label: human") as fake, tracking.run("log", {}):
        info = log_program_model(Classify(), lm=fake.lm())
    unchecked = register(info.model_uri, "unchecked", {"dataset": "trec", "metric": "accuracy:label", "score": 1.0})
    with pytest.raises(PromotionRefused, match="no passed load check"):
        promote("unchecked", unchecked.version, force=True)

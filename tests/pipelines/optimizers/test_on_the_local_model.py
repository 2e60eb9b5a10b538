"""The newer optimizers end to end, small, on the embedded model: demos chosen per call, the search over demo
counts and reasoning, the reflective loop, and an ensemble of programs shown different demos."""

import pytest

from pipelines import ChainOfThought, Ensemble, Predict, accuracy, evaluate, majority, track_usage
from pipelines.datasets import load_dataset
from pipelines.optimizers import GEPA, MIPRO, KNNFewShot
from pipelines.optimizers.presets import SearchSettings
from pipelines.programs import Classify
from pipelines.programs.classify import ClassifyQuestion

pytestmark = pytest.mark.local_lm


@pytest.fixture(scope="module")
def trec():
    dataset = load_dataset("trec")
    return dataset.split("train", 60), dataset.split("dev", 3)


def test_knn_demos_are_the_nearest_labelled_questions_and_the_answers_are_labels(trec):
    train, dev = trec
    compiled = KNNFewShot(k=3).compile(Classify(), train)
    asked = dev[0].question
    shown = compiled.classify.demo_pool.nearest({"question": asked})
    assert len(shown) == 3 and all(demo in train for demo in shown)
    result = evaluate(compiled, dev, accuracy("label"), num_threads=2)
    assert result.errors == 0 and all(item.outputs["label"] for item in result.results)
    assert compiled.classify.format_prompt(question=asked).count("--- assistant ---") == 3


def test_mipro_chooses_demo_counts_and_reasoning_for_a_chain_of_thought_step(trec):
    train, dev = trec
    settings = SearchSettings(num_candidates=2, num_trials=2, minibatch_size=2, val_size=3, num_full_evals=0,
                              max_bootstrapped_demos=0, max_labeled_demos=2)
    optimizer = MIPRO(accuracy("label"), settings=settings, num_threads=2)
    optimizer.compile(ChainOfThought(ClassifyQuestion), train, dev)
    candidates = optimizer.search_space_.predictors["predict"]
    assert candidates.demo_counts == (1, 2) and candidates.reasoning == (True, False)
    proposed = optimizer.report()["proposed_instructions"]["predict"]
    assert proposed and all(proposal["outcome"] for proposal in proposed)
    assert len(candidates.instructions) == 1 + sum(p["outcome"] == "kept" for p in proposed)


def test_the_reflective_loop_rewrites_an_instruction_from_real_runs(trec):
    train, dev = trec
    optimizer = GEPA(accuracy("label"), max_metric_calls=9, minibatch_size=2, num_threads=2)
    with track_usage() as usage:
        compiled = optimizer.compile(Predict(ClassifyQuestion), train[:6], dev)
    assert len(optimizer.candidates_) >= 1 and optimizer.pareto_
    assert optimizer.best_score_ >= optimizer.baseline_score_
    assert compiled.signature.instructions == optimizer.candidates_[optimizer.best_index_].instructions["self"]
    assert usage.total.calls > optimizer.program_runs_  # the runs, and the rewrite the LM wrote


def test_an_ensemble_answers_the_majority_of_its_members_answers(trec):
    train, dev = trec
    members = [KNNFewShot(k=2, similarity=similarity).compile(Classify(), train)
               for similarity in ("semantic", "lexical", "hybrid")]
    question = dev[0].question
    with track_usage() as usage:
        voted = Ensemble(members, field="label")(question=question)
    alone = [member(question=question) for member in members]  # each answer again, from the cache
    assert usage.total.calls + usage.total.cache_hits == 3
    assert voted.label == majority(alone, "label").label

"""Both shipped programs end to end on a few real examples with the embedded model."""

import json
import typing

import mlflow
import pytest

from pipelines import accuracy, evaluate, track_usage
from pipelines.datasets import load_dataset
from pipelines.programs import RAG, Classify, MultiHop, program_spec
from pipelines.programs.classify import AnswerType
from pipelines.retrieval.store import VectorStore
from tests.hotpotqa import HOTPOTQA_DIR, needs_hotpotqa

pytestmark = pytest.mark.local_lm


def test_classify_answers_trec_questions_with_valid_labels():
    examples = load_dataset("trec").split("dev", 4)
    result = evaluate(Classify(), examples, accuracy(), num_threads=2)
    parsed = [r for r in result.results if r.error is None]
    assert len(parsed) >= 3  # unparseable replies are a measured rate (about 1%), not an invariant
    assert all(r.outputs["label"] in typing.get_args(AnswerType) for r in parsed)
    assert result.errors == result.usage.parse_failures
    assert result.usage.calls == 4 + result.usage.parse_retries


@pytest.fixture(scope="module")
def hotpot_slice():
    """Two dev questions and a store of their own twenty paragraphs (gold and distractors)."""
    if not (HOTPOTQA_DIR / "corpus.jsonl").is_file():
        pytest.skip(f"HotpotQA data not found at {HOTPOTQA_DIR}")
    dataset = load_dataset("hotpotqa", HOTPOTQA_DIR)
    rows = [json.loads(line) for line in (HOTPOTQA_DIR / "dev.jsonl").read_text().splitlines()[:2]]
    titles = {title for row in rows for title in row["context_titles"]}
    store = VectorStore.build([p for p in dataset.corpus if p.title in titles], progress=False)
    return dataset.split("dev", 2), store


@needs_hotpotqa
def test_rag_retrieves_then_answers_with_reasoning(hotpot_slice):
    examples, store = hotpot_slice
    with track_usage() as usage:
        result = evaluate(RAG(store, k=3), examples, program_spec("rag").metrics()["f1"], num_threads=1)
    assert result.errors == 0
    for item in result.results:
        assert item.outputs["answer"] and item.outputs["reasoning"]
        assert len(item.outputs["titles"]) == len(item.outputs["passage_ids"]) == 3
    recall = result.rescore(program_spec("rag").metrics()["recall_any"])
    assert recall.score >= 0.5
    assert usage.retrievals == 2 and usage.calls >= 2


@needs_hotpotqa
def test_a_rag_call_inside_a_trace_has_retrieval_and_lm_spans(hotpot_slice):
    examples, store = hotpot_slice
    with mlflow.start_span(name="request") as root:
        RAG(store)(question=examples[0].question)
    spans = mlflow.get_trace(root.trace_id, flush=True).data.spans
    kinds = {span.name: span.span_type for span in spans}
    assert kinds["Retrieve"] == "RETRIEVER"
    assert any(kind == "CHAT_MODEL" for kind in kinds.values())


@needs_hotpotqa
def test_multihop_writes_two_queries_and_answers_from_every_new_passage_found(hotpot_slice):
    examples, store = hotpot_slice
    with track_usage() as usage:
        result = evaluate(MultiHop(store, k=2, question_first=False), examples,
                          program_spec("multihop").metrics()["f1"], num_threads=1)
    assert result.errors == 0 and usage.retrievals == 4
    for item in result.results:
        assert len(item.outputs["queries"]) == 2 and all(item.outputs["queries"])
        assert len(item.outputs["passage_ids"]) == len(set(item.outputs["passage_ids"])) == 4
        assert item.outputs["answer"]


@needs_hotpotqa
def test_multihop_searches_the_question_first_and_writes_only_the_later_queries(hotpot_slice):
    examples, store = hotpot_slice
    with track_usage() as usage:
        prediction = MultiHop(store, k=2)(question=examples[0].question)
    assert prediction.queries[0] == examples[0].question and len(prediction.queries) == 2
    assert len(set(prediction.passage_ids)) == 4 and usage.retrievals == 2

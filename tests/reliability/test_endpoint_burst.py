"""A served model under a bounded burst on loopback: 200 requests over 16 connections, one in four malformed.
Every good request is answered, every bad one is a 400, and the server still answers afterwards. The
model's LM is an OpenAI-compatible HTTP server in this process, so the burst measures the endpoint, not
inference. (A param the signature does not declare is not malformed: MLflow drops it, with a warning.)"""

import json
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from pipelines import LM
from pipelines.programs import Classify
from serving.endpoint import running_server
from serving.publish import publish
from tests.reliability.flaky_provider import FlakyProvider, serving

REQUESTS = 200
CONNECTIONS = 16
MALFORMED = [
    ("not json", "{this is not json"),
    ("missing column", json.dumps({"dataframe_records": [{"query": "Where is Kyoto?"}]})),
    ("empty text", json.dumps({"dataframe_records": [{"question": "   "}]})),
    ("not text", json.dumps({"dataframe_records": [{"question": 42}]})),
    ("mistyped param", json.dumps({"dataframe_records": [{"question": "Where is Kyoto?"}],
                                   "params": {"temperature": "hot"}})),
    ("out of range", json.dumps({"dataframe_records": [{"question": "Where is Kyoto?"}],
                                 "params": {"max_tokens": 0}})),
]


def _requests() -> list[tuple[str, str]]:
    rng = random.Random(0)
    return [rng.choice(MALFORMED) if rng.random() < 0.25 else
            ("good", json.dumps({"dataframe_records": [{"question": f"Who wrote book number {index}?"}]}))
            for index in range(REQUESTS)]


@pytest.fixture
def served_model_uri(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-burst-test")
    provider = FlakyProvider(lambda messages: "label: human", fault_rates={})
    with serving(provider):
        version = publish(Classify(), lm=LM("openai/burst-model", api_base=provider.url), name="burst",
                          scores={"dataset": "trec", "metric": "accuracy", "score": 0.5, "optimizer": "none"})
        yield f"models:/burst/{version.version}"


def test_a_burst_with_malformed_bodies_gets_every_answer_right_and_leaves_the_server_up(served_model_uri):
    planned = _requests()
    local = __import__("threading").local()

    def send(item: tuple[str, str]) -> tuple[str, int, dict]:
        kind, body = item
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        response = session.post(server.invocations, data=body, headers={"Content-Type": "application/json"},
                                timeout=120)
        return kind, response.status_code, response.json()

    with running_server(served_model_uri) as server:
        with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
            answered = list(pool.map(send, planned))
        assert requests.get(f"{server.url}/ping", timeout=10).status_code == 200
        after = requests.post(server.invocations, json={"dataframe_records": [{"question": "Who wrote Emma?"}]},
                              timeout=60)
        assert server.process.poll() is None
    assert after.status_code == 200
    good = [(status, body) for kind, status, body in answered if kind == "good"]
    bad = [(kind, status) for kind, status, _ in answered if kind != "good"]
    assert len(good) > REQUESTS / 2 and len({kind for kind, _ in bad}) == len(MALFORMED)
    assert all(status == 200 and body["predictions"][0]["label"] == "human" for status, body in good)
    assert all(status == 400 for _, status in bad), sorted({(kind, status) for kind, status in bad})

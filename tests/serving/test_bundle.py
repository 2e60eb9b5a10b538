"""A program's construction and code as the served model rebuilds them, without an LM: arguments as JSON,
a program calling a program, a captured `__main__`, and the refusals that name what cannot travel."""

import importlib
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from pipelines import LM, BestOfN, Ensemble, Example, Module, Predict, Prediction, ReAct, Retrieve
from pipelines.programs import Classify
from pipelines.retrieval import Passage, VectorStore
from serving.arguments import ArgumentError, Packing, rebuild
from serving.bundle import BundleError, input_fields, read_bundle, store_versions, write_bundle
from serving.capture import CaptureError, reference
from serving.user_code import CodeWalk

FIXTURES = Path(__file__).parents[1] / "fixtures"


class Inner(Module):
    def __init__(self, prefix: str, sizes: tuple[int, ...] = (1, 2)):
        self.prefix, self.sizes = prefix, sizes
        self.step = Predict("question -> answer")

    def forward(self, question: str) -> Prediction:
        return self.step(question=f"{self.prefix} {question}")


class Outer(Module):
    def __init__(self, inner: Inner, options: dict, lm: LM | None = None, kind: type = Classify):
        self.inner, self.options, self.kind = inner, options, kind
        self.final = Predict("question, draft -> answer")
        self.final.lm = lm

    def forward(self, question: str) -> Prediction:
        return self.final(question=question, draft=self.inner(question=question).answer)


def test_a_program_calling_a_program_is_rebuilt_from_its_arguments_with_its_state(tmp_path):
    program = Outer(Inner("Q:", sizes=(3,)), {"depth": 2, "names": ["a", "b"]}, lm=LM("openai/gpt-test"))
    program.final.demos = []
    program.inner.step.signature = program.inner.step.signature.with_instructions("Answer in one word.")
    packaged = write_bundle(program, LM(), tmp_path / "bundle")
    rebuilt, _, bundle = read_bundle(packaged.artifacts, root=tmp_path)
    assert rebuilt.fingerprint() == program.fingerprint()
    assert (rebuilt.inner.prefix, rebuilt.inner.sizes, rebuilt.options) == ("Q:", (3,), program.options)
    assert rebuilt.kind is Classify and rebuilt.final.lm.model == "openai/gpt-test"
    assert bundle.construction["kwargs"] == {"lm": {"$lm": LM("openai/gpt-test").settings()}}
    assert bundle.construction["args"][0]["$module"] == f"{__name__}:Inner"
    assert packaged.code.captured_source is None


def test_an_ensemble_is_rebuilt_with_each_members_demos(tmp_path):
    program = Ensemble([Classify(), Classify()], field="label")
    program.members[1].classify.demos = [Example(question="Who wrote Hamlet?", label="human")]
    rebuilt, _, _ = read_bundle(write_bundle(program, LM(), tmp_path / "bundle").artifacts, root=tmp_path)
    assert rebuilt.fingerprint() == program.fingerprint() and rebuilt.field == "label"
    assert [len(member.classify.demos) for member in rebuilt.members] == [0, 1]


@pytest.mark.parametrize(("value", "message"), [
    ({1, 2}, "Outer argument 'options' is a set, which a served model cannot rebuild"),
    ({"$store": "x"}, "dictionary keys must be text, and not one of"),
    (open, "Outer argument 'options' is a builtin_function_or_method"),
])
def test_an_argument_that_cannot_be_json_is_refused_with_its_place(tmp_path, value, message):
    with pytest.raises(BundleError, match=message):
        write_bundle(Outer(Inner("Q:"), value), LM(), tmp_path)


def test_encoded_values_round_trip():
    packing = Packing()
    values = [None, True, 3, 2.5, "text", [1, (2, 3)], {"nested": {"x": [None]}}, Classify]
    assert rebuild(packing.encode(values, "values"), {}) == values


def test_a_class_inside_a_function_cannot_be_referenced():
    class Local(Module):
        pass

    with pytest.raises(CaptureError, match="defined inside a function"):
        reference(Local)
    with pytest.raises(ArgumentError, match="has no 'Missing'"):
        rebuild({"$object": "pipelines.programs:Missing"}, {})


class TwoLookups(Module):
    def __init__(self, store, other):
        self.first, self.second, self.third = Retrieve(store, k=1), Retrieve(store, k=2), Retrieve(other, k=1)

    def forward(self, question: str) -> Prediction:
        return Prediction(ids=[self.first(question).passage_ids, self.second(question).passage_ids])


def test_each_store_is_packaged_once_however_many_retrieve_steps_search_it(tmp_path):
    passages = [Passage(id=str(number), title="t", text=f"passage {number}") for number in range(4)]
    vectors = np.eye(4, 8, dtype="float32")
    store = VectorStore.from_vectors(passages, vectors)
    other = VectorStore.from_vectors(passages[:2], vectors[:2], version=3)
    packaged = write_bundle(TwoLookups(store, other), LM(), tmp_path / "bundle")
    assert sorted(name for name in packaged.artifacts if name != "program") == ["store-0", "store-1"]
    rebuilt, _, bundle = read_bundle(packaged.artifacts, root=tmp_path)
    assert bundle.retrievers == {"first": {"store": "store-0", "k": 1, "store_version": 1},
                                 "second": {"store": "store-0", "k": 2, "store_version": 1},
                                 "third": {"store": "store-1", "k": 1, "store_version": 3}}
    assert rebuilt.first.store is rebuilt.second.store and len(rebuilt.third.store) == 2
    assert rebuilt.third.store.version == 3 and store_versions(rebuilt) == {"first": 1, "second": 1, "third": 3}


def test_stores_of_the_same_passages_seen_by_other_groups_are_two_artifacts(tmp_path):
    passages = [Passage(id=str(number), title="t", text=f"passage {number}") for number in range(2)]
    grouped = [Passage(passage.id, passage.title, passage.text, {"groups": ["hr"]}) for passage in passages]
    vectors = np.eye(2, 8, dtype="float32")
    both = TwoLookups(VectorStore.from_vectors(passages, vectors), VectorStore.from_vectors(grouped, vectors))
    packaged = write_bundle(both, LM(), tmp_path / "bundle")
    assert sorted(name for name in packaged.artifacts if name != "program") == ["store-0", "store-1"]


def test_a_version_1_bundle_still_loads(tmp_path):
    shutil.copy(FIXTURES / "served_program_v1.json", tmp_path / "program.json")
    program, lm, bundle = read_bundle({"program": str(tmp_path / "program.json")}, root=tmp_path)
    assert isinstance(program, Classify) and lm.model == LM().model and bundle.retrievers == {}


def _capture(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(script) + textwrap.dedent("""
        if __name__ == "__main__":
            from serving.capture import collect_code
            print("CAPTURED" + collect_code([Router]).captured_source)
    """))
    return subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_main_class_is_captured_with_what_it_uses_and_nothing_else(tmp_path):
    finished = _capture(tmp_path, """
        import json as serializer
        import logging
        from typing import Literal

        from pipelines import Module, Predict, Signature, InputField, OutputField

        LIMIT = len(open(__file__).read()) // 10**9 + 3  # a literal value: the value travels, not the file read
        Team = Literal["a", "b"]
        log = logging.getLogger(__name__)
        UNUSED = object()
        print("this line runs only in the script")

        def clip(text):
            return text[:LIMIT]

        class Route(Signature):
            \"\"\"Route it.\"\"\"
            ticket: str = InputField()
            team: Team = OutputField()

        class Router(Module):
            def __init__(self):
                self.route = Predict(Route)

            def forward(self, ticket):
                log.info("routing %s", ticket)
                return {"team": self.route(ticket=clip(ticket)).team, "raw": serializer.dumps(ticket)}

        if __name__ == "__main__":
            class Unused(Module):
                pass

            router = Router()
    """)
    assert finished.returncode == 0, finished.stderr
    source = finished.stdout.split("CAPTURED", 1)[1]
    for expected in ("import json as serializer", "LIMIT = 3", "Team = Literal", "log = logging.getLogger(__name__)",
                     "def clip", "class Route", "class Router"):
        assert expected in source
    for unexpected in ("UNUSED", "print(", "router = Router()", "open(", "class Unused", "__name__ ="):
        assert unexpected not in source
    namespace: dict = {}
    exec(compile(source, "captured", "exec"), namespace)
    assert [name for name, _ in namespace["Router"]().named_predictors()] == ["route"]


def test_a_global_made_at_run_time_is_refused_by_name(tmp_path):
    finished = _capture(tmp_path, """
        from pipelines import Module

        settings = {"k": 3, "opened": open(__file__)}

        class Router(Module):
            def forward(self, ticket):
                return {"team": settings["k"]}
    """)
    assert finished.returncode == 1
    assert ("CaptureError: the program's code reads the global 'settings' (a dict), which __main__ makes at run "
            "time: pass it to the program's constructor instead") in finished.stderr


def test_a_users_package_travels_whole_with_the_modules_it_imports_and_its_installed_imports_are_pinned(
        tmp_path, monkeypatch):
    package = tmp_path / "desk"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "steps.py").write_text("import numpy\nimport helpers\nfrom . import names\n\n\nclass Step:\n    pass\n")
    (package / "names.py").write_text("TEAM = 'billing'\n")
    (tmp_path / "helpers.py").write_text("import json\n")
    (tmp_path / "unrelated.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    walk = CodeWalk()
    try:
        walk.visit(importlib.import_module("desk.steps"))
    finally:
        for name in ("desk", "desk.steps", "desk.names", "helpers"):
            sys.modules.pop(name, None)
    assert walk.roots == {package.resolve(), (tmp_path / "helpers.py").resolve()}
    assert walk.requirements() == [f"numpy=={metadata.version('numpy')}"]  # json is the standard library's


def test_the_inputs_of_modules_that_take_any_keywords_come_from_their_signature_or_their_module():
    class Loose(Module):
        def forward(self, **inputs):
            return inputs

    def lookup(query: str) -> str:
        return query

    assert input_fields(Predict("context, question -> answer")) == ["context", "question"]
    assert input_fields(ReAct("question -> answer", [lookup])) == ["question"]
    assert input_fields(BestOfN(Predict("text -> label"), 3, lambda inputs, prediction: 1.0, 1.0)) == ["text"]
    with pytest.raises(BundleError, match=r"Loose\.forward takes any keywords and names no signature"):
        input_fields(Loose())

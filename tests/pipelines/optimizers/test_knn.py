"""Demos chosen per call (`DemoPool`, `KNNFewShot`) with a scripted LM and the real embedder."""

import pytest

from pipelines import Budget, ChainOfThought, Example, Predict, ScriptedLM, accuracy, context
from pipelines.demo_pool import DemoPool, fused
from pipelines.optimizers import KNNFewShot
from pipelines.state import program_state

QUESTIONS = {
    "Who wrote Hamlet?": "human", "Who painted the Mona Lisa?": "human", "Who invented the telephone?": "human",
    "Where is the Eiffel Tower?": "location", "Where is Mount Everest?": "location",
    "How many legs does a spider have?": "numeric", "How many moons does Mars have?": "numeric",
    "What does NASA stand for?": "abbreviation",
}
TRAIN = [Example(question=question, label=label).with_inputs("question") for question, label in QUESTIONS.items()]


def _label_of(messages) -> str:
    question = messages[-1]["content"].split(": ", 1)[1]
    return f"label: {QUESTIONS.get(question, 'human')}"


def test_a_pool_shows_the_nearest_demos_nearest_last_and_never_the_question_itself():
    pool = DemoPool(TRAIN, k=2, keys=["question"])
    chosen = pool.nearest({"question": "Who composed the Magic Flute?"})
    assert len(chosen) == 2 and all(demo.label == "human" for demo in chosen)
    assert [demo.question for demo in pool.nearest({"question": "Where is Mount Everest?"})][-1] == \
        "Where is the Eiffel Tower?"
    assert "Who wrote Hamlet?" not in [demo.question for demo in pool.nearest({"question": "Who wrote Hamlet?"})]


def test_a_pool_shows_every_demo_of_each_nearest_example_in_order_as_one_agent_runs_steps():
    steps = [Example(question="Where is the Eiffel Tower?", step=number, label="location") for number in (1, 2, 3)]
    pool = DemoPool([*steps, *TRAIN[:3]], k=2, keys=["question"])
    chosen = pool.nearest({"question": "Where is the Eiffel Tower located?"})
    assert chosen[-3:] == steps and len(chosen) == 4 and chosen[0].label == "human"


def test_a_lexical_pool_chooses_by_the_words_a_question_shares_where_meaning_chooses_by_topic():
    demos = [Example(question=question, label=label).with_inputs("question") for question, label in (
        ("Which museum of Paris holds the Mona Lisa?", "entity"), ("Who designed the Eiffel Tower of Paris?", "human"),
        ("How many rivers cross Scotland?", "numeric"), ("How many lakes does Finland have?", "numeric"))]
    question = {"question": "How many people live in Paris?"}
    by_words = DemoPool(demos, k=2, keys=["question"], similarity="lexical").nearest(question)
    by_meaning = DemoPool(demos, k=2, keys=["question"]).nearest(question)
    assert [demo.label for demo in by_words] == ["numeric", "numeric"]
    assert "numeric" not in [demo.label for demo in by_meaning]


def test_a_hybrid_pool_ranks_a_text_near_the_top_of_both_rankings_first():
    assert fused([[5, 1, 2], [1, 7, 2]], 1) == [1]
    assert fused([[5, 1, 2], [1, 7, 2]], 3) == [1, 2, 5]  # third in both beats first in one
    questions = {"question": "How many people live in Paris?"}
    hybrid = DemoPool(TRAIN, k=3, keys=["question"], similarity="hybrid").nearest(questions)
    assert len(hybrid) == 3 and hybrid[-1].question.startswith("How many")


def test_a_pool_refuses_demos_without_its_keys_a_k_below_one_and_an_unknown_similarity():
    with pytest.raises(ValueError, match="lack the key field"):
        DemoPool([Example(label="human")], k=1, keys=["question"])
    with pytest.raises(ValueError, match="at least 1 example"):
        DemoPool(TRAIN, k=0, keys=["question"])
    with pytest.raises(ValueError, match="semantic, lexical, hybrid, got 'fuzzy'"):
        DemoPool(TRAIN, k=1, keys=["question"], similarity="fuzzy")
    with pytest.raises(ValueError, match="similarity must be one of"):
        KNNFewShot(similarity="fuzzy").compile(Predict("question -> label"), TRAIN)


def test_knn_with_labels_only_shows_each_call_its_nearest_training_questions():
    compiled = KNNFewShot(k=3).compile(Predict("question -> label"), TRAIN)
    assert compiled.demos == [] and len(compiled.demo_pool.demos) == len(TRAIN)
    with ScriptedLM(responder=_label_of) as fake, context(lm=fake.lm()):
        compiled(question="How many wheels does a tricycle have?")
    shown = [message["content"] for message in fake.history[0].messages if message["role"] == "user"][:-1]
    assert len(shown) == 3 and shown[-1].startswith("question: How many")


def test_knn_bootstraps_passing_runs_and_a_reasoning_step_takes_no_bare_labels():
    right = {"Who wrote Hamlet?", "Where is the Eiffel Tower?"}

    def reason_then_label(messages) -> str:
        question = messages[-1]["content"].split(": ", 1)[1]
        label = QUESTIONS[question] if question in right else "entity"
        return f"reasoning: It asks about {question}\nlabel: {label}"

    optimizer = KNNFewShot(k=2, metric=accuracy("label"), num_threads=2)
    with ScriptedLM(responder=reason_then_label) as fake, context(lm=fake.lm()):
        compiled = optimizer.compile(ChainOfThought("question -> label"), TRAIN)
    pool = compiled.predict.demo_pool.demos
    assert {demo.question for demo in pool} == right and all(demo.reasoning for demo in pool)
    assert optimizer.pool_sizes_ == {"predict": {"bootstrapped": 2, "labeled": 0}}
    assert optimizer.program_runs_ == len(TRAIN)


def test_a_spent_budget_ends_bootstrapping_and_the_labels_fill_the_pool():
    optimizer = KNNFewShot(k=2, metric=accuracy("label"), num_threads=1, budget=Budget(max_calls=2))
    with ScriptedLM(responder=_label_of) as fake, context(lm=fake.lm()):
        compiled = optimizer.compile(Predict("question -> label"), TRAIN)
    assert optimizer.stopped_by_budget_
    sizes = optimizer.pool_sizes_["self"]
    assert sizes["bootstrapped"] == 2 and sizes["bootstrapped"] + sizes["labeled"] == len(TRAIN)
    assert len(compiled.demo_pool.demos) == len(TRAIN)


def test_the_pool_is_saved_as_json_state_and_loads_into_a_fresh_program(tmp_path):
    compiled = KNNFewShot(k=2).compile(Predict("question -> label"), TRAIN)
    compiled.save(tmp_path / "program.json")
    saved = program_state(compiled)["predictors"]["self"]["demo_pool"]
    assert saved["k"] == 2 and saved["keys"] == ["question"] and len(saved["demos"]) == len(TRAIN)
    loaded = Predict("question -> label").load(tmp_path / "program.json")
    asked = {"question": "Who directed Jaws?"}
    assert loaded.demo_pool.nearest(asked) == compiled.demo_pool.nearest(asked)
    assert loaded.fingerprint() == compiled.fingerprint()


def test_a_reasoning_step_told_to_answer_directly_takes_labels_as_whole_demos():
    program = ChainOfThought("question -> label")
    program.predict.omitted = ("reasoning",)
    compiled = KNNFewShot(k=2).compile(program, TRAIN)
    assert len(compiled.predict.demo_pool.demos) == len(TRAIN)
    assert len(KNNFewShot(k=2).compile(ChainOfThought("question -> label"), TRAIN).predict.demo_pool.demos) == 0

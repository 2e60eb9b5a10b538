import pytest

from pipelines import ChainOfThought, Example, Module, Predict, ScriptedLM, Signature, context
from pipelines.modules.chain_of_thought import MAX_TOKENS


class Pipeline(Module):
    def __init__(self):
        self.first = Predict("question -> query")
        self.answer = ChainOfThought("query -> answer")
        self.extra = [Predict("a -> b"), {"inner": Predict("c -> d")}]

    def forward(self, question):
        query = self.first(question=question).query
        return self.answer(query=query)


def test_named_predictors_walk_attributes_lists_and_dicts():
    names = [name for name, _ in Pipeline().named_predictors()]
    assert names == ["first", "answer.predict", "extra[0]", "extra[1]['inner']"]
    assert Predict("a -> b").named_predictors()[0][0] == "self"


def test_chain_of_thought_adds_reasoning_first_and_leaves_the_user_signature_alone():
    signature = Signature("question -> answer")
    cot = ChainOfThought(signature)
    assert cot.predict.signature.spec == "question: str -> reasoning: str, answer: str"
    assert signature.spec == "question: str -> answer: str"


def test_modules_compose_and_use_their_own_lm():
    with ScriptedLM(["query: capital of France", "reasoning: known.\nanswer: Paris"]) as fake:
        program = Pipeline()
        program.set_lm(fake.lm())
        prediction = program(question="What is the capital of France?")
    assert prediction.answer == "Paris" and prediction.reasoning == "known."
    assert fake.history[1].messages[-1]["content"] == "query: capital of France"


def test_deepcopy_is_independent():
    program = Pipeline()
    copied = program.deepcopy()
    copied.first.signature = copied.first.signature.with_instructions("changed")
    copied.first.demos.append({"question": "q", "query": "x"})
    assert program.first.demos == [] and program.first.signature.instructions != "changed"
    assert program.fingerprint() != copied.fingerprint()


def test_predict_names_missing_and_unknown_inputs():
    with pytest.raises(TypeError, match=r"missing \['question'\]; unknown \['questoin'\]"):
        Predict("question -> answer")(questoin="typo")


def test_module_without_forward_says_so():
    with pytest.raises(NotImplementedError, match="must define forward"):
        Module()()


def test_format_prompt_shows_the_instruction_demos_and_inputs_without_an_lm_call():
    predictor = Predict(Signature("question -> answer", "Answer in one word."))
    predictor.demos = [Example(question="Capital of Peru?", answer="Lima").with_inputs("question")]
    with ScriptedLM([]) as fake:
        prompt = predictor.format_prompt(question="Capital of France?")
    assert fake.history == []
    assert prompt.index("--- system ---") < prompt.index("Answer in one word.")
    assert prompt.index("question: Capital of Peru?") < prompt.index("--- assistant ---\nanswer: Lima")
    assert prompt.rstrip().endswith("--- user ---\nquestion: Capital of France?")
    with pytest.raises(TypeError, match="missing"):
        predictor.format_prompt(query="Capital of France?")


class Outer(Module):
    """A program calling a program, merging no usage of its own."""

    def __init__(self):
        self.inner = Pipeline()
        self.check = Predict("answer -> verdict")

    def forward(self, question):
        answer = self.inner(question=question).answer
        return {"answer": answer, "verdict": self.check(answer=answer).verdict}


def test_a_composite_reports_every_lm_call_of_its_children_without_code_of_its_own():
    replies = ["query: q", "reasoning: r\nanswer: a", "verdict: yes"]
    with ScriptedLM(replies) as fake:
        program = Outer()
        program.set_lm(fake.lm())
        prediction = program(question="why?")
        again = program(question="why?")
    assert prediction.usage.calls == 3 and not prediction.cached and dict(prediction) == {"answer": "a",
                                                                                           "verdict": "yes"}
    assert again.usage.calls == 0 and again.usage.cache_hits == 3 and again.cached


def test_forward_must_return_outputs():
    class Broken(Module):
        def forward(self, question):
            return question.upper()

    with pytest.raises(TypeError, match=r"Broken\.forward must return a Prediction or a mapping of outputs, got str"):
        Broken()(question="why?")


def test_a_module_keeps_its_constructor_arguments_through_deepcopy_and_walks_past_them():
    class Holder(Module):
        def __init__(self, inner: Module, *, label: str = "x"):
            self.inner = inner

    inner = Predict("question -> answer")
    holder = Holder(inner, label="y")
    copied = holder.deepcopy()
    assert holder.constructor_arguments() == ((inner,), {"label": "y"})
    assert copied.constructor_arguments()[0][0] is copied.inner  # the argument and the attribute stay one object
    assert [name for name, _ in holder.named_predictors()] == ["inner"]  # not found again among the arguments


def test_a_module_without_a_constructor_still_refuses_arguments():
    class Bare(Module):
        pass

    with pytest.raises(TypeError, match=r"Bare\(\) takes no arguments"):
        Bare(lm="x")


def test_chain_of_thought_bounds_its_reply_unless_told_otherwise():
    with ScriptedLM(responder=lambda messages: "reasoning: Short.\nanswer: Paris") as fake, context(lm=fake.lm()):
        ChainOfThought("question -> answer")(question="Capital of France?")
        ChainOfThought("question -> answer", max_tokens=None)(question="Capital of Italy?")
    assert fake.history[0].params["max_tokens"] == MAX_TOKENS
    assert fake.history[1].params["max_tokens"] == fake.lm().max_tokens

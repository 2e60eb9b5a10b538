"""LM judges with a scripted LM: their inputs, verdicts and rationales, and that their calls are cached,
counted apart as judge calls, and inside the budget of whatever scores with them."""

import pytest

from pipelines import Budget, BudgetExceeded, Example, Judge, Predict, ScriptedLM, answer_correct, context, evaluate
from pipelines import grounded as grounded_judge
from pipelines.lm.usage import track_usage
from pipelines.optimizers import BootstrapFewShot

EXAMPLES = [Example(id=str(index), question=f"What is {index} + {index}?", answer=str(2 * index))
            .with_inputs("question") for index in range(4)]


def world(messages) -> str:
    """The program answers 2x right for even x; the judge says correct when answer and gold answer agree."""
    system, last = messages[0]["content"], messages[-1]["content"]
    if "gold_answer" in system:
        fields = dict(line.split(": ", 1) for line in last.splitlines() if ": " in line)
        same = fields["gold_answer"].strip() == fields["answer"].strip()
        return f"rationale: they {'agree' if same else 'differ'}\ncorrect: {same}"
    if "grounded" in system:
        return "rationale: the first passage says so\ngrounded: true"
    number = int(last.split("What is ")[1].split(" ")[0])
    return f"answer: {2 * number if number % 2 == 0 else 0}"


def test_a_judge_scores_with_its_verdict_and_says_why(monkeypatch):
    with ScriptedLM(responder=world) as fake:
        judge = answer_correct(lm=fake.lm())
        right = judge(EXAMPLES[2], {"answer": "4"})
        wrong = judge(EXAMPLES[1], {"answer": "0"})
    assert (float(right), right.text) == (1.0, "they agree") and (float(wrong), wrong.text) == (0.0, "they differ")
    asked = fake.history[0].messages[-1]["content"]
    assert "question: What is 2 + 2?" in asked and "gold_answer: 4" in asked and "answer: 4" in asked


def test_judge_calls_are_counted_apart_cached_and_rescoring_asks_only_what_is_new():
    with ScriptedLM(responder=world) as fake, context(lm=fake.lm()):
        judge = answer_correct(lm=fake.lm())
        result = evaluate(Predict("question -> answer"), EXAMPLES, judge, num_threads=1, description=None)
        assert result.score == 0.5
        assert (result.usage.calls, result.usage.judge_calls) == (8, 4)
        with track_usage() as again:
            rescored = result.rescore(answer_correct(lm=fake.lm()))
        assert rescored.score == 0.5 and again.calls == 0 and again.judge_cache_hits == 4
        with track_usage() as grounding:
            result.rescore(grounded_judge(passages="answer", lm=fake.lm()))
    assert grounding.judge_calls == grounding.calls == 4


def test_a_budget_counts_the_judges_calls_too():
    with ScriptedLM(responder=world) as fake, context(lm=fake.lm()), pytest.raises(BudgetExceeded), \
            Budget(max_calls=5):
        evaluate(Predict("question -> answer"), EXAMPLES, answer_correct(lm=fake.lm()), num_threads=1,
                 description=None)
    assert len(fake.history) == 5


def test_an_optimizer_maximizes_a_judge_like_any_metric():
    with ScriptedLM(responder=world) as fake, context(lm=fake.lm()):
        optimizer = BootstrapFewShot(answer_correct(lm=fake.lm()), max_bootstrapped_demos=2, max_labeled_demos=0,
                                     num_threads=1)
        compiled = optimizer.compile(Predict("question -> answer"), EXAMPLES)
    assert [demo.answer for demo in compiled.demos] == ["0", "4"]


def test_a_judge_needs_a_verdict_and_readable_inputs():
    with pytest.raises(ValueError, match="needs a verdict output"):
        Judge("question -> rationale", name="empty")
    with pytest.raises(ValueError, match=r"say example\.FIELD or prediction\.FIELD"):
        Judge("answer -> ok: bool", name="bad", inputs={"answer": "outputs.answer"})
    with ScriptedLM(responder=world) as fake, pytest.raises(KeyError, match="reads the output 'passages'"):
        grounded_judge(lm=fake.lm())(EXAMPLES[0], {"answer": "0"})


def test_a_labelled_verdict_is_scored_by_its_map_and_an_unreadable_reply_scores_zero():
    with ScriptedLM(responder=lambda messages: "verdict: partly") as fake:
        judge = Judge("answer -> verdict: str", name="graded", lm=fake.lm(), scores={"yes": 1.0, "partly": 0.5})
        assert float(judge(EXAMPLES[0], {"answer": "0"})) == 0.5
    with ScriptedLM(responder=lambda messages: "ok: perhaps") as fake:
        judged = Judge("answer -> ok: bool", name="mute", lm=fake.lm())(EXAMPLES[0], {"answer": "0"})
    assert float(judged) == 0.0 and "could not be read" in judged.text

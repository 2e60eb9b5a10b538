import pytest

from pipelines import Ensemble, Example, ParseError, Predict, Prediction, ScriptedLM, context, majority


def test_majority_keeps_the_first_prediction_of_the_most_given_answer_ignoring_case_and_spacing():
    predictions = [Prediction(reasoning="r1", answer="Paris"), Prediction(reasoning="r2", answer="rome "),
                   Prediction(reasoning="r3", answer="Rome")]
    assert majority(predictions, "answer").to_dict() == {"reasoning": "r2", "answer": "rome "}


def test_a_tie_goes_to_the_answer_given_first():
    predictions = [{"label": "b"}, {"label": "a"}, {"label": "a"}, {"label": "b"}]
    assert majority(predictions).label == "b"


def test_majority_says_which_field_is_missing_or_unnamed():
    with pytest.raises(ValueError, match=r"say which field .*\['reasoning', 'answer'\]"):
        majority([Prediction(reasoning="r", answer="a")])
    with pytest.raises(ValueError, match=r"predictions \[1\] have no field 'answer'"):
        majority([{"answer": "a"}, {"label": "b"}], "answer")
    with pytest.raises(ValueError, match="at least one"):
        majority([])


def members_with_their_own_demos(signature: str, count: int) -> list[Predict]:
    """Members shown different demos, as an ensemble's are: identical prompts would share one cache entry."""
    members = [Predict(signature) for _ in range(count)]
    for index, member in enumerate(members):
        member.demos = [Example(question=f"demo {index}", answer="1")]
    return members


def test_an_ensemble_asks_every_member_and_returns_their_vote_with_every_call_counted():
    members = members_with_their_own_demos("question -> answer", 3)
    with ScriptedLM(["answer: Oslo", "answer: Bern", "answer: Bern"]) as fake, context(lm=fake.lm()):
        prediction = Ensemble(members, field="answer")(question="q")
    assert prediction.answer == "Bern" and prediction.usage.calls == 3 and len(fake.history) == 3


def test_an_unreadable_member_is_left_out_of_the_vote_and_all_unreadable_raises():
    members = members_with_their_own_demos("question -> answer: int", 3)
    unreadable = ["answer: many", "answer: lots"]  # a reply and its corrective retry, neither a number
    with ScriptedLM([*unreadable, "answer: 7", "answer: 7"]) as fake, context(lm=fake.lm()):
        assert Ensemble(members, field="answer")(question="q").answer == 7
    with ScriptedLM(unreadable * 2) as fake, context(lm=fake.lm()), pytest.raises(ParseError):
        Ensemble(members[:2], field="answer")(question="q")


def test_an_ensemble_refuses_what_is_not_a_list_of_modules():
    with pytest.raises(ValueError, match=r"non-empty list of modules, got \['str'\]"):
        Ensemble(["not a module"])
    with pytest.raises(ValueError, match="non-empty"):
        Ensemble([])
    with pytest.raises(ValueError, match="got Predict"):
        Ensemble(Predict("question -> answer"), Predict("question -> answer"))


def test_each_member_keeps_its_own_demos_through_save_and_load(tmp_path):
    def ensemble():
        return Ensemble([Predict("question -> answer"), Predict("question -> answer")], field="answer")

    saved = ensemble()
    saved.members[1].demos = [Example(question="2 + 2?", answer="4")]
    saved.save(tmp_path / "ensemble.json")
    loaded = ensemble().load(tmp_path / "ensemble.json")
    assert [len(member.demos) for member in loaded.members] == [0, 1]
    assert loaded.members[1].demos[0].answer == "4"

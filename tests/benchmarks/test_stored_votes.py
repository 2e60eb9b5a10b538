from benchmarks.stored_votes import best_ensemble, voted
from pipelines import Example, accuracy

GOLD = ["a", "b", "c", "a"]


def method(name: str, labels: list[str | None], calls: int = 10) -> dict:
    right = sum(label == gold for label, gold in zip(labels, GOLD, strict=True)) / len(GOLD)
    return {"method": name, "dev_labels": labels, "test_labels": labels, "dev_accuracy": right,
            "evaluation_calls": calls}


def test_the_vote_leaves_unreadable_members_out_and_breaks_ties_by_the_first():
    assert voted([["a", None, "x"], ["b", None, "y"], ["b", None, "x"]]) == ["b", None, "x"]
    assert voted([["a"], ["b"]]) == ["a"]


def test_the_best_ensemble_on_dev_is_scored_with_its_members_costs_summed():
    examples = [Example(question=str(index), label=label) for index, label in enumerate(GOLD)]
    methods = [method("one", ["a", "b", "x", "x"]), method("two", ["x", "b", "c", "a"]),
               method("three", ["a", "x", "c", "a"]), method("wrong", ["x", "x", "x", "x"]),
               {"method": "unstored", "dev_accuracy": 1.0}]
    row = best_ensemble(methods, examples, examples, accuracy("label"))
    assert row["members"] == ["two", "three", "one"]  # best on dev first
    assert row["dev_accuracy"] == row["test_accuracy"] == 1.0 and row["evaluation_calls"] == 30
    assert best_ensemble(methods[:2], examples, examples, accuracy("label")) is None

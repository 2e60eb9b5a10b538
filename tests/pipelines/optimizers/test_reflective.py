"""The reflective optimizer (GEPA, through the `gepa` package) with a scripted LM."""

from pipelines import Budget, Example, Feedback, Predict, ScriptedLM, accuracy, context
from pipelines.optimizers import GEPA
from pipelines.optimizers.reflective import CandidateListener

COUNTRIES = {f"Country{index}": f"City{index}" for index in range(24)}
EXAMPLES = [Example(id=country, country=country, capital=capital).with_inputs("country")
            for country, capital in COUNTRIES.items()]
TRAIN, VAL = EXAMPLES[:12], EXAMPLES[12:]
GOOD = "Answer with the capital city of the country."


class Reflecting:
    """Task calls are right for every country only under an instruction naming the capital city, for every
    third one otherwise; a reflection call (gepa's rewrite prompt) proposes that instruction."""

    def __init__(self):
        self.reflections: list[str] = []

    def __call__(self, messages) -> str:
        last = messages[-1]["content"]
        if "write a new instruction" in last:
            self.reflections.append(last)
            return f"A better instruction:\n```\n{GOOD}\n```"
        country = last.split(": ", 1)[1]
        right = "capital city" in messages[0]["content"] or int(country[7:]) % 3 == 0
        return f"capital: {COUNTRIES[country] if right else 'Atlantis'}"


class Recorder(CandidateListener):
    def __init__(self):
        self.records = []

    def on_candidate(self, record):
        self.records.append(record)


def _compile(optimizer, model, metric=None):
    with ScriptedLM(responder=model) as fake, context(lm=fake.lm()):
        return optimizer.compile(Predict("country -> capital"), TRAIN, valset=VAL)


def test_a_rewrite_written_from_failing_runs_and_their_feedback_wins_and_joins_the_front():
    model, recorder = Reflecting(), Recorder()
    optimizer = GEPA(accuracy("capital"), max_metric_calls=40, minibatch_size=3, num_threads=2,
                     listeners=[recorder])
    compiled = _compile(optimizer, model)
    assert compiled.signature.instructions == GOOD
    assert optimizer.best_score_ == 1.0 and optimizer.baseline_score_ < 0.5
    assert optimizer.best_index_ in optimizer.pareto_ and len(optimizer.candidates_) >= 2
    assert "Expected capital: City" in model.reflections[0] and "the program wrote capital: Atlantis" \
        in model.reflections[0]
    assert [record.score for record in recorder.records][:2] == [optimizer.baseline_score_, 1.0]
    assert optimizer.program_runs_ <= 40 + 2 * 3  # gepa checks its limit before an iteration, not during


def test_the_metrics_own_feedback_text_reaches_the_reflecting_lm():
    def capital_with_reason(example, outputs):
        right = outputs["capital"] == example.capital
        return Feedback(float(right), "right" if right else f"{outputs['capital']} is not a real city")

    model = Reflecting()
    _compile(GEPA(capital_with_reason, max_metric_calls=30, num_threads=2), model)
    assert "Atlantis is not a real city" in model.reflections[0]


def test_a_budget_that_cannot_pay_for_an_iteration_stops_the_search_with_the_best_so_far():
    optimizer = GEPA(accuracy("capital"), max_metric_calls=200, num_threads=2, budget=Budget(max_calls=20))
    compiled = _compile(optimizer, Reflecting())
    assert optimizer.stopped_by_budget_ and optimizer.program_runs_ <= 20
    assert compiled.signature.instructions in {candidate.instructions["self"] for candidate in optimizer.candidates_}


def test_a_metric_budget_that_only_scores_the_seed_is_named_before_the_search(caplog):
    _compile(GEPA(accuracy("capital"), max_metric_calls=len(VAL) + 1, num_threads=2), Reflecting())
    assert f"leave no room to score a rewrite on {len(VAL)} validation examples" in caplog.text
    caplog.clear()
    _compile(GEPA(accuracy("capital"), max_metric_calls=40, num_threads=2), Reflecting())
    assert "leave no room" not in caplog.text

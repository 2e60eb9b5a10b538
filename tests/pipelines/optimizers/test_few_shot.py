"""Few-shot optimizers with a scripted LM: which demos they keep."""


from pipelines import Budget, Example, LMError, Module, Predict, ScriptedLM, accuracy, context
from pipelines.optimizers import BootstrapFewShot, BootstrapRandomSearch, LabeledFewShot

CAPITALS = {"France": "Paris", "Italy": "Rome", "Spain": "Madrid", "Japan": "Tokyo", "Peru": "Lima",
            "Chile": "Santiago"}
TRAIN = [Example(id=country, country=country, capital=capital).with_inputs("country")
         for country, capital in CAPITALS.items()]


def _answers_right_except(*wrong: str):
    """Answers the capital, except for the named countries, where it answers 'Atlantis'."""
    def respond(messages) -> str:
        country = messages[-1]["content"].split(": ", 1)[1]
        return f"capital: {'Atlantis' if country in wrong else CAPITALS[country]}"
    return respond


class TwoSteps(Module):
    """Names the country's continent, then the capital: two predictors, each needing its own demos."""

    def __init__(self):
        self.locate = Predict("country -> continent")
        self.answer = Predict("country, continent -> capital")

    def forward(self, country):
        continent = self.locate(country=country).continent
        return self.answer(country=country, continent=continent)


def test_labeled_few_shot_gives_each_predictor_k_training_examples():
    program = Predict("country -> capital")
    compiled = LabeledFewShot(k=3, seed=1).compile(program, TRAIN)
    assert len(compiled.demos) == 3 and all(demo in TRAIN for demo in compiled.demos)
    assert LabeledFewShot(k=3, seed=1).compile(program, TRAIN).demos == compiled.demos
    assert program.demos == []


def test_bootstrap_keeps_only_runs_that_pass_the_metric():
    with ScriptedLM(responder=_answers_right_except("France", "Spain")) as fake, context(lm=fake.lm()):
        optimizer = BootstrapFewShot(accuracy("capital"), max_bootstrapped_demos=3, max_labeled_demos=0,
                                     num_threads=2)
        compiled = optimizer.compile(Predict("country -> capital"), TRAIN)
    demos = compiled.demos
    assert [demo.country for demo in demos] == ["Italy", "Japan", "Peru"]
    assert all(demo.capital == CAPITALS[demo.country] for demo in demos)
    assert demos[0].inputs() == {"country": "Italy"}
    assert optimizer.attempts_ == 6 and optimizer.demo_counts_ == {"self": {"bootstrapped": 3, "labeled": 0}}


def test_bootstrap_adds_labeled_demos_from_examples_not_bootstrapped():
    with ScriptedLM(responder=_answers_right_except()) as fake, context(lm=fake.lm()):
        compiled = BootstrapFewShot(accuracy("capital"), max_bootstrapped_demos=2, max_labeled_demos=2,
                                    num_threads=2).compile(Predict("country -> capital"), TRAIN)
    bootstrapped, labeled = compiled.demos[:2], compiled.demos[2:]
    assert len(labeled) == 2
    assert {demo.country for demo in bootstrapped}.isdisjoint({demo.country for demo in labeled})


def test_each_predictor_gets_the_steps_it_took_in_passing_runs():
    def respond(messages) -> str:
        last = messages[-1]["content"]
        if "continent" not in last:
            return "continent: somewhere"
        country = last.split("\n")[0].split(": ", 1)[1]
        return f"capital: {CAPITALS[country]}"

    with ScriptedLM(responder=respond) as fake, context(lm=fake.lm()):
        compiled = BootstrapFewShot(accuracy("capital"), max_bootstrapped_demos=2, max_labeled_demos=0,
                                    num_threads=1).compile(TwoSteps(), TRAIN)
    assert [dict(demo) for demo in compiled.locate.demos] == [
        {"country": "France", "continent": "somewhere"}, {"country": "Italy", "continent": "somewhere"}]
    assert compiled.answer.demos[0].inputs() == {"country": "France", "continent": "somewhere"}
    assert compiled.answer.demos[0].capital == "Paris"


def test_a_spent_budget_stops_bootstrapping_with_the_demos_found_so_far():
    with ScriptedLM(responder=_answers_right_except()) as fake, context(lm=fake.lm()):
        optimizer = BootstrapFewShot(accuracy("capital"), max_bootstrapped_demos=6, max_labeled_demos=0,
                                     num_threads=1, budget=Budget(max_calls=3))
        compiled = optimizer.compile(Predict("country -> capital"), TRAIN)
    assert optimizer.stopped_by_budget_ is True
    assert len(compiled.demos) == 3 and len(fake.history) == 3
    assert optimizer.usage_.calls == 3


def test_failed_runs_are_not_demos_and_do_not_stop_bootstrapping():
    answers = [LMError("provider down"), *[f"capital: {capital}" for capital in list(CAPITALS.values())[1:]]]
    with ScriptedLM(answers) as fake, context(lm=fake.lm()):
        compiled = BootstrapFewShot(accuracy("capital"), max_bootstrapped_demos=2, max_labeled_demos=0,
                                    num_threads=1).compile(Predict("country -> capital"), TRAIN)
    assert [demo.country for demo in compiled.demos] == ["Italy", "Spain"]


def _right_only_with_demos(messages) -> str:
    """A model that knows capitals only when it was shown an example."""
    country = messages[-1]["content"].split(": ", 1)[1]
    return f"capital: {CAPITALS[country] if len(messages) > 2 else 'Atlantis'}"


def test_random_search_returns_the_best_candidate_on_the_validation_set():
    with ScriptedLM(responder=_right_only_with_demos) as fake, context(lm=fake.lm()):
        search = BootstrapRandomSearch(accuracy("capital"), num_candidates=2, max_bootstrapped_demos=1,
                                       max_labeled_demos=1, num_threads=1)
        best = search.compile(Predict("country -> capital"), TRAIN[:4], valset=TRAIN[4:])
    scores = {candidate.name: candidate.score for candidate in search.candidates_}
    assert scores["zero-shot"] == 0.0 and scores["labeled"] == 1.0
    assert search.best_score_ == 1.0 and best is search.best_program_ and best.demos


def test_random_search_under_a_spent_budget_returns_the_best_so_far():
    with ScriptedLM(responder=_right_only_with_demos) as fake, context(lm=fake.lm()):
        search = BootstrapRandomSearch(accuracy("capital"), num_candidates=4, num_threads=1, budget=Budget(max_calls=5))
        search.compile(Predict("country -> capital"), TRAIN[:4], valset=TRAIN[4:])
    assert search.stopped_by_budget_ and len(fake.history) == 5
    assert [candidate.name for candidate in search.candidates_] == ["zero-shot", "labeled"]


def test_the_pool_of_passing_runs_keeps_the_whole_batch_that_filled_it():
    with ScriptedLM(responder=_answers_right_except()) as fake, context(lm=fake.lm()):
        bootstrap = BootstrapFewShot(accuracy("capital"), max_bootstrapped_demos=1, max_labeled_demos=0,
                                     num_threads=4)
        compiled = bootstrap.compile(Predict("country -> capital"), TRAIN)
    assert bootstrap.attempts_ == 4 and len(bootstrap.bootstrapped_["self"]) == 4  # a pool to draw sets from
    assert len(compiled.demos) == 1


def test_bootstrapped_demos_with_the_shortest_reasoning_come_first():
    from pipelines import ChainOfThought

    def reason(messages) -> str:
        country = messages[-1]["content"].split(": ", 1)[1]
        words = " ".join(["because"] * (len(country) * 3 if country != "Peru" else 1))
        return f"reasoning: {words}\ncapital: {CAPITALS[country]}"

    with ScriptedLM(responder=reason) as fake, context(lm=fake.lm()):
        compiled = BootstrapFewShot(accuracy("capital"), max_bootstrapped_demos=2, max_labeled_demos=0,
                                    num_threads=6).compile(ChainOfThought("country -> capital"), TRAIN)
    assert [demo.country for demo in compiled.predict.demos] == ["Peru", "Italy"]  # equals keep their order

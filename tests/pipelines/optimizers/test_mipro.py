"""The MIPRO-style search with a scripted LM: candidates, minibatches, budget, resume and the final choice."""

import itertools
import json
import logging
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing

import optuna
import pytest

from pipelines import Budget, Example, Predict, ScriptedLM, accuracy, context, evaluate
from pipelines.optimizers import MIPRO
from pipelines.optimizers.mipro import PROPOSAL_MAX_TOKENS
from pipelines.optimizers.presets import SearchSettings
from pipelines.optimizers.proposer import SUMMARY_MAX_TOKENS, propose_instructions
from pipelines.optimizers.storage import StudyStore
from pipelines.optimizers.study import StudyMismatch, open_study
from pipelines.prompts import PROPOSAL_TIPS

COUNTRIES = {f"Country{index}": f"City{index}" for index in range(40)}
EXAMPLES = [Example(id=country, country=country, capital=capital).with_inputs("country")
            for country, capital in COUNTRIES.items()]
TRAIN, VAL = EXAMPLES[:16], EXAMPLES[16:]
GOOD_INSTRUCTION = "Answer with the capital city of the country, exactly."


class CapitalModel:
    """A scripted world: the summary and proposal calls get plausible replies (one proposal in three is the
    good instruction). A task call is right for every fourth country; for every second one when the
    instruction asks for the capital city or demos are shown; for all when both."""

    def __init__(self):
        self.proposals = itertools.count()

    def __call__(self, messages) -> str:
        system, last = messages[0]["content"], messages[-1]["content"]
        if last.startswith("examples:"):
            return "summary: Countries and their capitals."
        if last.startswith("task_summary:"):
            number = next(self.proposals)
            return f"instruction: {GOOD_INSTRUCTION if number % 3 == 1 else f'Variant {number} of the task.'}"
        country = last.split(": ", 1)[1]
        helped = ("capital city" in system) + (len(messages) > 2)
        right = int(country[7:]) % (4, 2, 1)[helped] == 0
        return f"capital: {COUNTRIES[country] if right else 'Atlantis'}"


# The nearest-demos choice embeds the training questions with MiniLM: only the tests of that choice turn it on.
SEARCH = {"num_candidates": 4, "num_trials": 6, "minibatch_size": 4, "val_size": 12, "num_full_evals": 1,
          "max_bootstrapped_demos": 2, "max_labeled_demos": 1, "search_nearest_demos": False}


def _mipro(**options):
    """MIPRO on the small search above; search settings among `options` change it, the rest go to MIPRO."""
    search = {name: options.pop(name) for name in list(options) if name in SearchSettings.__dataclass_fields__}
    return MIPRO(accuracy("capital"), settings=SearchSettings(**{**SEARCH, **search}),
                 num_threads=2, **options)


def _compile(optimizer, program=None, model=None):
    with ScriptedLM(responder=model or CapitalModel()) as fake, context(lm=fake.lm()):
        compiled = optimizer.compile(program or Predict("country -> capital"), TRAIN, valset=VAL)
    return compiled, fake


def test_the_original_instruction_is_kept_beside_the_proposals():
    optimizer = _mipro()
    _compile(optimizer)
    instructions = optimizer.search_space_.predictors["self"].instructions
    assert instructions[0] == Predict("country -> capital").signature.instructions
    assert GOOD_INSTRUCTION in instructions[1:] and len(instructions) == 4
    assert optimizer.proposal_usage_.calls == 4  # one summary, three proposals


def test_one_candidate_searches_the_original_instruction_without_a_proposal_call():
    optimizer = _mipro(num_candidates=1)
    _compile(optimizer)
    assert optimizer.search_space_.predictors["self"].instructions == [
        Predict("country -> capital").signature.instructions]
    assert optimizer.proposal_usage_.calls == optimizer.estimate_.proposal_calls == 0


def test_demo_sets_are_none_labeled_then_bootstrapped_from_passing_runs():
    optimizer = _mipro()
    _compile(optimizer)
    none, labeled, *bootstrapped = optimizer.search_space_.predictors["self"].demo_sets
    assert none == [] and len(labeled) == 1
    for demos in bootstrapped:
        # the zero-shot teacher passes only on every fourth country
        assert [int(demo.country[7:]) % 4 for demo in demos[:2]] == [0, 0]


def test_the_third_demo_set_is_what_bootstrapfewshot_picks_first_passing_runs_then_labeled():
    optimizer = _mipro()
    _compile(optimizer)
    shuffled = list(TRAIN)
    random.Random(0).shuffle(shuffled)
    first_passing = [example.country for example in shuffled if int(example.country[7:]) % 4 == 0][:2]
    demos = optimizer.search_space_.predictors["self"].demo_sets[2]
    assert [demo.country for demo in demos[:2]] == first_passing and len(demos) == 3
    assert demos[2].country not in first_passing


def test_bootstrapfewshots_demos_are_scored_in_full_and_the_search_returns_no_less():
    optimizer = _mipro(num_trials=0)  # only the anchors: the original program and BootstrapFewShot's demos
    compiled, _ = _compile(optimizer)
    original, bootstrapped = optimizer.trials_
    assert (original.kind, bootstrapped.kind) == ("original", "bootstrapped")
    assert bootstrapped.combination == "0.2x3" and bootstrapped.full and bootstrapped.seen == 12
    assert bootstrapped.score > original.score  # demos help the scripted model
    assert optimizer.best_score_ == bootstrapped.score
    assert compiled.demos == optimizer.search_space_.predictors["self"].demo_sets[2]


def test_without_bootstrapped_sets_the_original_is_the_only_anchor():
    optimizer = _mipro(num_candidates=2, num_trials=2)
    _compile(optimizer)
    assert [trial.kind for trial in optimizer.trials_].count("bootstrapped") == 0
    assert optimizer.trials_[0].kind == "original"


def test_search_finds_a_better_program_and_scores_it_on_the_whole_validation_set():
    optimizer = _mipro(num_trials=10, num_full_evals=2, val_size=None)
    compiled, _ = _compile(optimizer)
    assert 0.0 < optimizer.baseline_score_ < 0.5
    assert optimizer.best_score_ >= 0.5
    full = [trial for trial in optimizer.trials_ if trial.kind in ("original", "bootstrapped", "full")]
    assert all(trial.full and trial.seen == len(VAL) for trial in full)
    assert optimizer.best_combination_ != optimizer.search_space_.original
    with ScriptedLM(responder=CapitalModel()) as fake, context(lm=fake.lm()):
        rescored = evaluate(compiled, VAL, accuracy("capital"), description=None)
    assert rescored.score == pytest.approx(optimizer.best_score_)  # the program returned is the one scored


def test_no_combination_is_scored_twice_on_the_same_example():
    optimizer = _mipro(num_trials=12, num_candidates=2)  # 4 combinations: the sampler must repeat some
    _compile(optimizer)
    scored: dict[str, list[str]] = {}
    for trial in optimizer.study_.trials:
        scored.setdefault(trial.user_attrs["combination"], []).extend(trial.user_attrs["scored"])
    assert all(len(ids) == len(set(ids)) for ids in scored.values())
    assert any(trial.kind == "minibatch" and trial.seen > trial.examples for trial in optimizer.trials_)


def test_counters_move_and_the_estimate_bounds_the_actual_work():
    optimizer = _mipro()
    _, fake = _compile(optimizer)
    assert optimizer.usage_.calls == len(fake.history) > 0
    assert optimizer.task_usage_.calls + optimizer.proposal_usage_.calls == optimizer.usage_.calls
    assert optimizer.bootstrap_runs_ > 0
    assert 0 < optimizer.program_runs_ - optimizer.bootstrap_runs_ <= optimizer.estimate_.validation_runs
    assert optimizer.proposal_usage_.calls <= optimizer.estimate_.proposal_calls


def test_a_short_budget_ends_the_trials_early_to_keep_a_full_evaluation():
    optimizer = _mipro(budget=Budget(max_calls=45))  # 16 bootstrap runs, 4 proposals, 12 original, 13 more
    _, fake = _compile(optimizer)
    assert optimizer.stopped_by_budget_ is True
    assert len(fake.history) <= 45
    kinds = [trial.kind for trial in optimizer.trials_]
    assert kinds.count("minibatch") < 6 and kinds[-1] == "full"
    assert optimizer.best_score_ >= optimizer.baseline_score_


def test_a_budget_that_covers_only_the_original_returns_it():
    optimizer = _mipro(budget=Budget(max_calls=34))  # 16 bootstrap runs, 4 proposals, 12 original, 2 more
    compiled, fake = _compile(optimizer)
    assert optimizer.stopped_by_budget_ is True and len(fake.history) <= 34
    assert optimizer.best_score_ == optimizer.baseline_score_
    assert compiled.signature.instructions == Predict("country -> capital").signature.instructions


def test_a_budget_too_small_for_the_original_returns_the_program_as_given():
    optimizer = _mipro(budget=Budget(max_calls=3))
    compiled, _ = _compile(optimizer)
    assert optimizer.stopped_by_budget_ and optimizer.best_score_ is None and compiled.demos == []


def test_a_stopped_search_resumes_and_finishes_without_repeating_a_trial(tmp_path):
    path = tmp_path / "study.db"
    first = _mipro(budget=Budget(max_calls=45), study=path)
    _compile(first)
    assert first.stopped_by_budget_
    before = {trial.number: trial.score for trial in first.trials_}
    resumed = _mipro(study=path, resume=True)
    _compile(resumed)
    assert not resumed.stopped_by_budget_
    assert {number: resumed_score for number, resumed_score in
            ((trial.number, trial.score) for trial in resumed.trials_) if number in before} == before
    assert sum(trial.kind in ("minibatch", "repeat") for trial in resumed.trials_) == 6
    assert resumed.proposal_usage_.calls == 0  # the candidates came from the study
    learned = sorted(name for name in vars(first) if name.endswith("_"))
    assert sorted(name for name in vars(resumed) if name.endswith("_")) == learned  # all set on resume too
    assert resumed.bootstrap_runs_ == 0 and resumed.program_runs_ > 0


def test_resume_fails_the_trials_a_killed_search_left_running_or_queued(tmp_path):
    path = tmp_path / "study.db"
    settings = {"directions": ["maximize"], "seed": 0, "startup_trials": 1, "inputs": {"program": "p"}}
    study = open_study(StudyStore.local(path), resume=False, **settings)
    study.enqueue_trial({"instruction": 1})
    study.enqueue_trial({"instruction": 2})
    study.ask()  # killed while the first ran, with the second queued
    resumed = open_study(StudyStore.local(path), resume=True, **settings)
    assert {trial.state for trial in resumed.trials} == {optuna.trial.TrialState.FAIL}
    assert len(resumed.trials) == 2


def _count_finished(path) -> int:
    """Finished trials, read without opening the study: the running search may still be creating it."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            return connection.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _finished(path) -> list:
    study = optuna.load_study(study_name="sigflow", storage=f"sqlite:///{path}")
    return [trial for trial in study.trials if trial.state == optuna.trial.TrialState.COMPLETE]


def test_a_search_killed_halfway_resumes_to_the_same_trial_count_without_repeating_work(tmp_path):
    path = tmp_path / "study.db"
    command = [sys.executable, "-m", "tests.pipelines.optimizers.mipro_run", str(path)]
    process = subprocess.Popen(command)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _count_finished(path) < 5:
        assert process.poll() is None, "the search ended before it could be killed"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    before = {trial.number: (trial.params, trial.values) for trial in _finished(path)}
    assert 5 <= len(before) < 13

    resumed = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert "search trials 10" in resumed.stdout
    after = _finished(path)
    assert {trial.number: (trial.params, trial.values) for trial in after if trial.number in before} == before
    scored: dict[str, list[str]] = {}
    for trial in after:
        scored.setdefault(trial.user_attrs["combination"], []).extend(trial.user_attrs["scored"])
    assert all(len(ids) == len(set(ids)) for ids in scored.values())


def test_resume_refuses_a_study_of_other_inputs(tmp_path):
    path = tmp_path / "study.db"
    _compile(_mipro(study=path, num_trials=2))
    with pytest.raises(StudyMismatch, match="num_trials"):
        _compile(_mipro(study=path, num_trials=3, resume=True))
    with pytest.raises(FileExistsError, match="--resume"):
        _compile(_mipro(study=path, num_trials=2))


def test_multi_objective_search_returns_a_pareto_set_and_picks_by_the_rule():
    optimizer = _mipro(objectives=("quality", "tokens"), num_trials=10, num_full_evals=3)
    _compile(optimizer)
    points, candidates = optimizer.pareto_, optimizer.search_space_.predictors["self"]
    assert points
    for point in points:  # each point carries the program its combination builds
        ((instruction, demo_set, shown, _),) = point.combination
        assert point.program.signature.instructions == candidates.instructions[instruction]
        if demo_set == candidates.nearest:
            assert point.program.demos == [] and point.program.demo_pool.k == shown
        else:
            assert point.program.demos == candidates.demo_sets[demo_set][:shown]
    for point in points:
        assert not any(other.score >= point.score and other.tokens <= point.tokens
                       and (other.score, other.tokens) != (point.score, point.tokens) for other in points)
    best = max(point.score for point in points)
    chosen = next(point for point in points if point.combination == optimizer.best_combination_)
    top = next(point for point in points if point.score == best)
    assert chosen.score >= best - top.standard_error
    assert chosen.tokens == min(p.tokens for p in points if p.score >= best - top.standard_error)


@pytest.mark.parametrize("objectives", [(), ("tokens",), ("quality", "money")])
def test_objectives_must_start_with_quality_and_name_known_costs(objectives):
    with pytest.raises(ValueError, match="objectives must be 'quality'"):
        _compile(_mipro(objectives=objectives))


def test_an_unknown_preset_is_refused_by_compile_not_the_constructor():
    optimizer = MIPRO(accuracy("capital"), settings="extreme")
    with pytest.raises(ValueError, match="unknown preset 'extreme'; choose one of light, medium, heavy"):
        _compile(optimizer)


def test_an_unknown_search_setting_is_named():
    with pytest.raises(ValueError, match=r"unknown search setting\(s\) \['num_trails'\]"):
        SearchSettings.preset("light", num_trails=3)


def test_optuna_stays_quiet_during_a_search_and_its_verbosity_comes_back(caplog):
    optuna.logging.set_verbosity(optuna.logging.INFO)
    optuna_logger = logging.getLogger("optuna")  # it does not propagate to the root logger caplog watches
    optuna_logger.addHandler(caplog.handler)
    try:
        _compile(_mipro(num_trials=2))
    finally:
        optuna_logger.removeHandler(caplog.handler)
    assert [record for record in caplog.records if record.name.startswith("optuna")] == []
    assert optuna.logging.get_verbosity() == optuna.logging.INFO


class FewDemosDirectModel(CapitalModel):
    """Right on every country when shown exactly one demo and not asked to reason; wrong otherwise."""

    def __call__(self, messages) -> str:
        last = messages[-1]["content"]
        if last.startswith(("examples:", "task_summary:")):
            return super().__call__(messages)
        country = last.split(": ", 1)[1]
        demos = (len(messages) - 2) // 2
        right = demos == 1 and "reasoning:" not in messages[0]["content"]
        answer = COUNTRIES[country] if right else "Atlantis"
        return ("" if right else "reasoning: Let me think.\n") + f"capital: {answer}"


def test_the_search_chooses_how_many_demos_to_show_and_whether_a_step_reasons():
    from pipelines import ChainOfThought

    optimizer = _mipro(num_trials=16, num_full_evals=2, max_bootstrapped_demos=2, max_labeled_demos=2)
    with ScriptedLM(responder=FewDemosDirectModel()) as fake, context(lm=fake.lm()):
        compiled = optimizer.compile(ChainOfThought("country -> capital"), TRAIN, valset=VAL)
    candidates = optimizer.search_space_.predictors["predict"]
    assert candidates.demo_counts == (1, 2) and candidates.reasoning == (True, False)
    (_, _, shown, reasons), = optimizer.best_combination_
    assert (shown, reasons) == (1, 0) and optimizer.best_score_ == 1.0
    assert len(compiled.predict.demos) == 1 and compiled.predict.omitted == ("reasoning",)
    assert compiled(country="Country3").reasoning == ""


def test_equal_programs_are_one_combination_and_their_parameters_make_them_again():
    optimizer = _mipro(num_trials=0)
    _compile(optimizer)
    space = optimizer.search_space_
    no_demos = [space.combination({"self.instruction": 0, "self.demos": 0, "self.num_demos": count})
                for count in space.predictors["self"].demo_counts]
    assert set(no_demos) == {space.original}
    for combination in [space.original, space.bootstrapped, ((1, 2, 2, 1),)]:
        assert space.combination(space.params(combination)) == combination


class SummaryBesideBootstrapping(CapitalModel):
    """Notes whether a bootstrapping call arrives while the training-data summary is being written; each
    side waits a little for the other, so run one after the other they do not meet."""

    def __init__(self):
        super().__init__()
        self.writing, self.written, self.met = threading.Event(), threading.Event(), threading.Event()
        self.overlapped = False

    def __call__(self, messages) -> str:
        last = messages[-1]["content"]
        if last.startswith("examples:"):
            self.writing.set()
            self.overlapped = self.met.wait(timeout=2)
            self.written.set()
        elif not last.startswith("task_summary:") and not self.written.is_set() and self.writing.wait(timeout=0.2):
            self.met.set()
        return super().__call__(messages)


def test_the_training_data_summary_is_written_while_demos_are_bootstrapped_and_kept_short():
    model = SummaryBesideBootstrapping()
    optimizer = _mipro(num_trials=1)
    _, fake = _compile(optimizer, model=model)
    assert model.overlapped
    summary_call, = [call for call in fake.history if call.messages[-1]["content"].startswith("examples:")]
    assert summary_call.params["max_tokens"] == SUMMARY_MAX_TOKENS < PROPOSAL_MAX_TOKENS
    assert optimizer.proposal_usage_.calls == 4 and optimizer.bootstrap_runs_ > 0  # still counted apart


class OffTaskProposals(CapitalModel):
    """Proposes, in turn, an instruction about the examples, one about the program, a copy of a tip, and a
    good one."""

    def __call__(self, messages) -> str:
        if messages[-1]["content"].startswith("task_summary:"):
            number = next(self.proposals) % 4
            return "instruction: " + ("Summarize the examples into a summary of each country.",
                                      "Describe what the program does with each input.",
                                      PROPOSAL_TIPS["persona"], GOOD_INSTRUCTION)[number]
        return super().__call__(messages)


def test_proposals_off_the_task_are_discarded_before_a_trial_and_reported():
    optimizer = _mipro(num_candidates=5, num_trials=2)
    _compile(optimizer, model=OffTaskProposals())
    instructions = optimizer.search_space_.predictors["self"].instructions
    assert instructions[1:] == [GOOD_INSTRUCTION]
    outcomes = sorted(proposal["outcome"] for proposal in optimizer.report()["proposed_instructions"]["self"])
    assert outcomes == ["copies the tip", "kept", "off task (examples, summarize, summary)", "off task (program)"]
    tried = {trial.params["self.instruction"] for trial in optimizer.trials_}
    assert tried <= {0, 1}


def test_proposals_that_copy_a_shown_example_or_loop_are_discarded():
    demo = Example(question="What is the famous song Bavagheet by Arun Date?", answer="a bhavgeet")
    looping = "Read the context, then answer the question. " * 6
    replies = ["Use the context to answer the question \"What is the famous song Bavagheet by Arun Date?\".",
               looping, "Step 'self': reads question; current instruction: answer it.",
               "Answer the question in a few words taken from the context."]
    with ScriptedLM([f"instruction: {reply}" for reply in replies]) as fake:
        proposals = propose_instructions(Predict("question -> answer"), {"self": [[], [demo]]}, summary="Trivia.",
                                         num_candidates=5, lm=fake.lm(), seed=0, num_threads=1)
    assert [proposal["outcome"] for proposal in proposals.proposed["self"]] == [
        "copies an example", "loops", "off task (current instruction)", "kept"]
    assert proposals.instructions["self"][1:] == [replies[-1]]


KINDS = {
    "Who wrote Hamlet?": "human", "Who painted the Mona Lisa?": "human", "Who invented the telephone?": "human",
    "Where is the Eiffel Tower?": "location", "Where is Mount Everest?": "location",
    "How many legs does a spider have?": "numeric", "How many moons does Mars have?": "numeric",
    "What does NASA stand for?": "abbreviation",
}
ASKED = {
    "Who composed the Magic Flute?": "human", "Who discovered penicillin?": "human",
    "Where is the Colosseum?": "location", "Where is Lake Titicaca?": "location",
    "How many sides does a hexagon have?": "numeric", "How many players are on a football team?": "numeric",
    "What does FBI stand for?": "abbreviation", "What does UNESCO stand for?": "abbreviation",
}


def _kind_examples(kinds: dict[str, str]) -> list[Example]:
    return [Example(id=question, question=question, label=label).with_inputs("question")
            for question, label in kinds.items()]


class CopiesTheNearestDemo(CapitalModel):
    """Answers with the label of the last demo it is shown (nearest last, when demos are chosen per call),
    `entity` with none: right only when the demos match the question."""

    def __call__(self, messages) -> str:
        last = messages[-1]["content"]
        if last.startswith(("examples:", "task_summary:")):
            return super().__call__(messages)
        demos = [message["content"] for message in messages[1:-1] if message["role"] == "assistant"]
        return demos[-1] if demos else "label: entity"


def _kinds_mipro(study_path, **options) -> MIPRO:
    settings = SearchSettings(**{**SEARCH, "num_candidates": 2, "num_trials": 8, "minibatch_size": 4,
                                 "val_size": None, "max_labeled_demos": 2, "search_nearest_demos": True})
    return MIPRO(accuracy("label"), settings=settings, num_threads=2, study=study_path, **options)


def test_the_search_may_show_each_call_its_nearest_training_demos_and_keeps_them_on_resume(tmp_path):
    optimizer = _kinds_mipro(tmp_path / "study.db")
    program = Predict("question -> label")
    with ScriptedLM(responder=CopiesTheNearestDemo()) as fake, context(lm=fake.lm()):
        compiled = optimizer.compile(program, _kind_examples(KINDS), valset=_kind_examples(ASKED))
    candidates = optimizer.search_space_.predictors["self"]
    assert candidates.nearest == 2 and len(candidates.pool) == len(KINDS) and candidates.pool_keys == ("question",)
    assert optimizer.search_space_.choices()["self.demos"] == [0, 1, 2]
    (_, demo_set, shown, _), = optimizer.best_combination_
    assert demo_set == candidates.nearest and optimizer.best_score_ == 1.0
    assert compiled.demos == [] and compiled.demo_pool.k == shown
    assert [demo.label for demo in compiled.demo_pool.nearest({"question": "Where is Machu Picchu?"})][-1] == \
        "location"
    described = optimizer.search_space_.describe(optimizer.best_combination_)["self"]
    assert described["demo_set"] == "nearest"
    resumed = _kinds_mipro(tmp_path / "study.db", resume=True)
    with ScriptedLM(responder=CopiesTheNearestDemo()) as fake, context(lm=fake.lm()):
        again = resumed.compile(program, _kind_examples(KINDS), valset=_kind_examples(ASKED))
    assert resumed.search_space_.predictors["self"].pool == candidates.pool
    assert again.demo_pool.demos == compiled.demo_pool.demos and resumed.proposal_usage_.calls == 0


def test_a_reasoning_steps_nearest_demos_are_whole_runs_and_labels_only_when_it_answers_directly():
    from pipelines import ChainOfThought
    from pipelines.optimizers.search_space import PredictorCandidates, SearchSpace

    program = ChainOfThought("question -> label")
    run = Example(question="Who wrote Hamlet?", reasoning="It asks for a writer.", label="human")
    labelled = _kind_examples(KINDS)[1:]
    space = SearchSpace({"predict": PredictorCandidates(["Classify."], [[]], (1, 2), (True, False),
                                                        [run, *labelled], ("question",))}, program)
    reasoning = space.combination({"predict.instruction": 0, "predict.demos": 1, "predict.num_demos": 2,
                                   "predict.reasoning": 1})
    direct = space.combination({"predict.instruction": 0, "predict.demos": 1, "predict.num_demos": 2,
                                "predict.reasoning": 0})
    assert reasoning == ((0, 1, 1, 1),) and direct == ((0, 1, 2, 0),)
    assert space.build(program, reasoning).predict.demo_pool.demos == [run]
    built = space.build(program, direct).predict
    assert len(built.demo_pool.demos) == len(KINDS) and built.omitted == ("reasoning",)
    assert space.build(program, space.original).predict.demo_pool is None


def test_the_nearest_demos_may_be_chosen_by_meaning_or_by_shared_words_and_the_choice_is_saved():
    from pipelines.optimizers.search_space import PredictorCandidates, SearchSpace

    program = Predict("question -> label")
    space = SearchSpace({"self": PredictorCandidates(["Classify."], [[]], (), (True,), _kind_examples(KINDS),
                                                     ("question",), ("semantic", "lexical"))}, program)
    assert space.choices()["self.demos"] == [0, 1, 2]
    lexical = space.combination({"self.instruction": 0, "self.demos": 2})
    pool = space.build(program, lexical).demo_pool
    assert (pool.similarity, pool.k) == ("lexical", 4)
    assert [demo.label for demo in pool.nearest({"question": "How many strings does a violin have?"})][-2:] == \
        ["numeric", "numeric"]
    assert space.describe(lexical)["self"]["similarity"] == "lexical"
    again = SearchSpace.from_dict(json.loads(json.dumps(space.to_dict())), program)
    assert again.build(program, lexical).demo_pool.similarity == "lexical"


@pytest.mark.parametrize("similarities", [(), ("semantic", "semantic"), ("fuzzy",)])
def test_the_nearest_similarities_must_be_known_and_distinct(similarities):
    with pytest.raises(ValueError, match="nearest_similarities must name one or more of semantic, lexical, hybrid"):
        SearchSettings(nearest_similarities=similarities)

"""HotpotQA with the embedded model: the shipped `rag` and `multihop`, zero-shot (with chain of thought, and
answering directly) and optimized. Optimizers compile on `train.jsonl` and choose on the first 100 dev
questions; every score is on dev questions 100 to 300, which nothing was chosen on, with a 95% bootstrap
interval. Each optimized program is also scored on the first 100, where the best of them is chosen. Each
method starts from an empty LM cache, so its LM calls are real; the optimizers share one budget of LM calls.
Unreadable replies are those still unreadable after the corrective retry (an `error` row for a served user);
recall is both gold titles among the passages the program read."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from benchmarks.harness import checkpointed, fresh_cache_dir, stored
from benchmarks.optimizers_trec import GEPA_VALIDATION
from benchmarks.rag_zero_shot import quick_corpus
from benchmarks.retrieval_hotpotqa import DATA_DIR
from benchmarks.stats import shown, with_interval
from pipelines import LM, Budget, context, evaluate, track_usage
from pipelines.datasets import load_dataset
from pipelines.modules import Module
from pipelines.modules.chain_of_thought import REASONING
from pipelines.optimizers import GEPA, MIPRO, BootstrapFewShot, KNNFewShot
from pipelines.optimizers.presets import SearchSettings
from pipelines.programs import RAG, MultiHop
from pipelines.programs.rag import rag_metrics
from pipelines.retrieval.indexes import cached_store
from pipelines.retrieval.store import VectorStore

NUM_THREADS = 4
METRICS = rag_metrics()
OPTIMIZER_BUDGET = 400  # LM calls each optimizer may spend; GEPA runs at MIPRO light's
BOOTSTRAP = {"max_bootstrapped_demos": 2, "max_labeled_demos": 2}  # the setting of DSPy's 16.0 EM


@dataclass(frozen=True)
class Plan:
    train: int | None
    choose: int
    score: int
    methods: tuple[str, ...]
    budget: int
    quick: bool = False


FULL = Plan(train=None, choose=100, score=200, budget=OPTIMIZER_BUDGET, methods=(
    "rag", "rag-unbounded", "rag-direct", "multihop", "multihop-direct", "multihop-written-direct", "rag-direct+knn",
    "rag+bootstrap", "rag+mipro", "rag+gepa", "multihop-direct+knn", "multihop+mipro", "multihop+gepa"))
# Quick mode smoke-tests a zero-shot, an optimized and a reflective method on one question each over a few
# hundred passages.
QUICK = Plan(train=4, choose=1, score=1, budget=6, quick=True, methods=("rag", "multihop-direct", "rag+gepa"))


def _direct(program: Module) -> Module:
    """The program with its chain-of-thought step answering directly."""
    program.generate.predict.omitted = (REASONING,)
    return program


def _unbounded(program: Module) -> Module:
    """The program with its chain of thought allowed the LM's own limit instead of its 100 tokens."""
    program.generate.predict.config.pop("max_tokens", None)
    return program


def _optimized(method: str, program: Module, train: list, choose: list, plan: Plan) -> tuple[Module, dict]:
    """The program `method` names after its optimizer (if any), and what the optimizer reports."""
    f1 = METRICS["f1"]
    budget = Budget(max_calls=plan.budget)
    if method.endswith("+knn"):
        optimizer = KNNFewShot(k=4)
    elif method.endswith("+bootstrap"):
        optimizer = BootstrapFewShot(f1, num_threads=NUM_THREADS, budget=budget, **BOOTSTRAP)
    elif method.endswith("+mipro"):
        search = {"num_candidates": 1, "num_trials": 1, "minibatch_size": 1} if plan.quick else {}
        optimizer = MIPRO(f1, settings=SearchSettings.preset("light", **search), num_threads=NUM_THREADS,
                          budget=budget)
    elif method.endswith("+gepa"):
        optimizer = GEPA(f1, max_metric_calls=plan.budget, num_threads=NUM_THREADS, budget=budget)
    else:
        return program, {}
    validation = choose[:GEPA_VALIDATION] if method.endswith("+gepa") else choose
    return optimizer.compile(program, train, validation), optimizer.report()


def measure(method: str, build: Callable[[], Module], train: list, choose: list, scored: list,
            plan: Plan) -> dict[str, Any]:
    """The method's program compiled, then scored on the questions it was chosen on (an optimized one's:
    where methods are compared) and on the scored ones."""
    with fresh_cache_dir(), context(lm=LM()):
        started = time.perf_counter()
        with track_usage() as usage:
            program, report = _optimized(method, build(), train, choose, plan)
        compile_seconds = time.perf_counter() - started
        on_choose = _choose_scores(program, choose) if is_optimized(method) else None
        result = evaluate(program, scored, METRICS["f1"], num_threads=NUM_THREADS, description=None)
    rescored = {name: result.rescore(metric) for name, metric in METRICS.items()}
    exact = [item.score for item in rescored["exact_match"].results]
    return {"method": method, "n": result.n, "exact_match": with_interval(exact), "exact_match_scores": exact,
            "f1": with_interval([item.score for item in result.results]),
            "recall_all": rescored["recall_all"].score, "unreadable": result.usage.parse_failures,
            "optimizer_lm_calls": usage.total.calls, "evaluation_lm_calls": result.usage.calls,
            "completion_tokens_per_call": result.usage.completion_tokens / max(1, result.usage.calls),
            "compile_seconds": compile_seconds, "seconds": time.perf_counter() - started, "choose": on_choose,
            "report": {key: value for key, value in report.items() if key != "proposed_instructions"},
            "proposed_instructions": report.get("proposed_instructions")}


def measure_choice(method: str, build: Callable[[], Module], train: list, choose: list,
                   plan: Plan) -> dict[str, Any]:
    """The scores on the questions chosen on, for a result stored before they were kept: the program compiled
    again (KNN demos and bootstrapping are deterministic) and scored there."""
    with fresh_cache_dir(), context(lm=LM()):
        program, _ = _optimized(method, build(), train, choose, plan)
        return _choose_scores(program, choose)


def _choose_scores(program: Module, choose: list) -> dict[str, Any]:
    result = evaluate(program, choose, METRICS["f1"], num_threads=NUM_THREADS, description=None)
    exact = result.rescore(METRICS["exact_match"])
    return {"f1": with_interval([item.score for item in result.results]),
            "exact_match": with_interval([item.score for item in exact.results])}


def is_optimized(method: str) -> bool:
    return "+" in method


def run(quick: bool) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    dataset = load_dataset("hotpotqa", DATA_DIR)
    dev = dataset.split("dev")
    train, choose = dataset.split("train", plan.train), dev[:plan.choose]
    scored = dev[plan.choose:plan.choose + plan.score]
    passages = quick_corpus(dataset, choose + scored) if quick else dataset.corpus
    store = cached_store("hotpotqa-quick" if quick else "hotpotqa", passages)
    settings = {"train": len(train), "choose": len(choose), "score": len(scored), "budget": plan.budget}
    methods = []
    for method in plan.methods:
        build = builder(method, store)
        measured = checkpointed("hotpotqa_programs", method, _settings(method, settings),
                                partial(measure, method, build, train, choose, scored, plan), quick)
        if is_optimized(method) and not measured.get("choose"):
            measured = {**measured, "choose": checkpointed("hotpotqa_programs", f"{method}@choose", settings,
                                                           partial(measure_choice, method, build, train, choose,
                                                                   plan), quick)}
        methods.append(measured)
    return {**settings, "methods": methods}


def _settings(method: str, settings: dict[str, Any]) -> dict[str, Any]:
    """What a stored result must have been measured with to be reused; GEPA's also names its validation set."""
    return {**settings, "validation": GEPA_VALIDATION} if method.endswith("+gepa") else settings


def builder(method: str, store: VectorStore) -> Callable[[], Module]:
    """What builds the program `method` names before its optimizer: `rag` or `multihop`, `-direct` to answer
    without reasoning, and the alternatives the shipped programs' defaults were chosen over."""
    builds = {"rag": lambda: RAG(store), "multihop": lambda: MultiHop(store),
              "rag-unbounded": lambda: _unbounded(RAG(store)),
              "multihop-written": lambda: MultiHop(store, question_first=False)}
    base = method.split("+")[0]
    program = builds[base.removesuffix("-direct")]
    return (lambda: _direct(program())) if base.endswith("-direct") else program


def report(result: dict[str, Any]) -> str:
    rows = [f"| {m['method']} | {_on_choose(m)} | {shown(m['exact_match'])} | {shown(m['f1'])} | "
            f"{m['recall_all']:.3f} | {m['unreadable']} | {m['optimizer_lm_calls']} | {m['evaluation_lm_calls']} | "
            f"{m['completion_tokens_per_call']:.0f} | {m['seconds']:.0f} |" for m in result["methods"]]
    notes = [f"- {m['method']}: {_chosen(m['report'])}" for m in result["methods"] if m["report"]]
    return "\n".join([
        f"Train {result['train']}, chosen on dev[:{result['choose']}], scored on {_scored_on(result)}; each "
        f"optimizer's budget {result['budget']} LM calls.", "",
        "| method | F1 where chosen | EM [95% CI] | F1 [95% CI] | recall (both gold) | unreadable | "
        "optimizer LM calls | evaluation LM calls | completion tokens a call | seconds |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
        *rows, "", *notes, *_claims(result)])


def _scored_on(result: dict[str, Any]) -> str:
    """Where the scores come from: the next dev questions unless the result names other ones."""
    return result.get("scored_on", f"the next {result['score']} dev questions")


def _claims(result: dict[str, Any]) -> list[str]:
    """The two HotpotQA claims, read off the table: the optimized program with the best F1 (what every
    optimizer maximizes) on the questions chosen on, against zero-shot `rag` and DSPy's best on the scored ones."""
    by_name = {m["method"]: m for m in result["methods"]}
    optimized = [m for m in result["methods"] if m.get("choose")]
    if not optimized or "rag" not in by_name:
        return []
    chosen = max(optimized, key=lambda m: m["choose"]["f1"]["mean"])
    em, zero_shot = chosen["exact_match"]["mean"], by_name["rag"]["exact_match"]["mean"]
    lines = ["", f"Chosen on dev[:{result['choose']}] among the {len(optimized)} optimized programs: "
             f"{chosen['method']} (F1 there {shown(chosen['choose']['f1'])}); on the scored questions EM "
             f"{shown(chosen['exact_match'])}, {em / max(zero_shot, 1e-9):.2f} times zero-shot rag's {zero_shot:.3f} "
             f"(the claim: at least 2), in {chosen['optimizer_lm_calls']} optimizer LM calls."]
    reference = stored("dspy_hotpotqa")
    if reference is not None:
        best = max(reference["result"]["rows"], key=lambda row: row["exact_match"]["mean"])
        lines.append(f"DSPy's best on the same questions, {best['optimizer']}: EM {shown(best['exact_match'])} in "
                     f"{best['optimizer_lm_calls']} optimizer LM calls; {chosen['method']} is "
                     f"{100 * (em - best['exact_match']['mean']):+.1f} EM points from it (the claim: at least +3)"
                     f"{_paired(chosen, best)}.")
    return lines


def _paired(ours: dict[str, Any], theirs: dict[str, Any]) -> str:
    """The difference's own interval, question by question, where both kept each question's score: two
    overlapping intervals do not say whether one program leads on the same questions."""
    if not (ours.get("exact_match_scores") and theirs.get("exact_match_scores")):
        return ""
    difference = with_interval([100 * (a - b) for a, b in zip(ours["exact_match_scores"],
                                                              theirs["exact_match_scores"], strict=True)])
    return (f"; question by question {difference['mean']:+.1f} EM points, 95% CI [{difference['low']:+.1f}, "
            f"{difference['high']:+.1f}]")


def _on_choose(method: dict[str, Any]) -> str:
    return shown(method["choose"]["f1"]) if method.get("choose") else "-"


def _chosen(report: dict[str, Any]) -> str:
    """What an optimizer ended with, in a line."""
    if "pool_sizes" in report:
        return f"demo pools {report['pool_sizes']}"
    if "instructions" in report:
        return f"{report['candidates']} candidates; instructions {report['instructions']}"
    return ", ".join(f"{key} {value:.3f}" if isinstance(value, float) else f"{key} {value}"
                     for key, value in report.items() if key in ("trials", "search_score", "program_runs"))

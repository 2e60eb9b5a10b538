"""TREC question classification with the embedded model: zero-shot, `LabeledFewShot(4)`, `BootstrapFewShot`
(4 bootstrapped + 4 labeled demos), `KNNFewShot` (the 4, 8 or 16 training questions nearest each call, with
their labels, nearest by meaning (MiniLM), by the words they share (TF-IDF, `lexical`) or by both rankings
fused (`hybrid`); dev is where one is chosen), `MIPRO` light and `GEPA` at MIPRO light's LM calls, each compiled
on `train`, validated on dev (300) and scored on test (500), with 95% bootstrap intervals. Every method starts
with an empty LM cache, so its LM calls are real: the optimizer's task calls (bootstrapping, trials) and its
instruction proposals are counted apart from the evaluation calls. Program runs are those the optimizer
made; DSPy's MIPROv2 `auto="light"` makes about 670 for one predictor with a 200-example validation set.
The last row is the `Ensemble` (a majority vote) of 3 or 5 of the programs above that dev
chooses, read off their stored predictions (`stored_votes`). `trec_baselines` gives what the labels alone reach
without an LM."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from benchmarks.harness import checkpointed, fresh_cache_dir
from benchmarks.stats import shown, with_interval
from benchmarks.stored_votes import best_ensemble
from pipelines import LM, Budget, EvaluationResult, accuracy, context, evaluate, track_usage
from pipelines.datasets import load_dataset
from pipelines.demo_pool import DemoPool
from pipelines.optimizers import GEPA, MIPRO, BootstrapFewShot, KNNFewShot, LabeledFewShot
from pipelines.optimizers.presets import SearchSettings
from pipelines.programs import Classify

METRIC = accuracy("label")
NUM_THREADS = 4
# Demos per call, nearest by meaning (`knn-8`), by shared words (`knn-lexical-8`) or both (`knn-hybrid-8`); the
# table's dev column is where one is chosen. Four demos by words or both are left out: a vote of the labels of
# the 4 nearest dev questions' training neighbours was below that of 8 and 16 on dev, by all three similarities.
KNN_METHODS = ("knn-4", "knn-8", "knn-16", "knn-lexical-8", "knn-lexical-16", "knn-hybrid-8", "knn-hybrid-16")
REFLECTIVE_BUDGET = 330  # LM calls: what MIPRO light spends here (320 program runs, 6 proposals)
# The dev questions GEPA scores the seed and each rewrite it keeps on: all 300 would spend its budget on the seed.
GEPA_VALIDATION = 50
# MIPRO may show each call its nearest training questions by each similarity KNNFewShot is measured with.
NEAREST = {"nearest_similarities": ("semantic", "lexical", "hybrid")}
METHODS = ("zero-shot", "labeled", "bootstrap", *KNN_METHODS, "mipro", "gepa")
# The claims under test are settled first (demos chosen per call, MIPRO and GEPA against zero-shot), then the KNN
# settings whose label votes were below those measured, and the fixed-demo baselines last.
MEASURING_ORDER = ("zero-shot", "knn-4", "knn-8", "knn-lexical-8", "knn-hybrid-16", "knn-hybrid-8", "mipro", "gepa",
                   "knn-16", "knn-lexical-16", "labeled", "bootstrap")


@dataclass(frozen=True)
class Plan:
    """Examples per split (None: the whole split), and settings over MIPRO light's; the demo counts among
    them hold for every method."""
    sizes: dict[str, int | None]
    search: dict[str, int] = field(default_factory=dict)
    reflective_budget: int = REFLECTIVE_BUDGET


FULL = Plan(sizes={"train": None, "dev": None, "test": None}, search=NEAREST)
# Quick mode smoke-tests every method in under a minute: a few questions, one demo of each kind, a one-trial
# search over the original instruction (proposals cost 10-15 s a call here; the tests cover the proposer).
QUICK = Plan(sizes={"train": 6, "dev": 2, "test": 2},
             search={"num_candidates": 1, "num_trials": 1, "minibatch_size": 2, "max_bootstrapped_demos": 1,
                     "max_labeled_demos": 1, **NEAREST}, reflective_budget=4)


def splits(plan: Plan) -> tuple[list, list, list]:
    """TREC's train, dev and test examples at the plan's sizes (the DSPy reference uses the same)."""
    dataset = load_dataset("trec")
    return tuple(dataset.split(split, plan.sizes[split]) for split in ("train", "dev", "test"))


def _compile(method: str, train: list, dev: list, plan: Plan) -> tuple[Any, dict[str, Any]]:
    search = plan.search
    program = Classify()
    if method == "zero-shot":
        return program, {}
    demos = {name: search.get(name, 4) for name in ("max_bootstrapped_demos", "max_labeled_demos")}
    if method == "labeled":
        return LabeledFewShot(k=demos["max_labeled_demos"]).compile(program, train), {}
    if method.startswith("knn-"):
        *similarity, k = method.removeprefix("knn-").split("-")
        return KNNFewShot(k=int(k), similarity="".join(similarity) or "semantic").compile(program, train), {}
    if method == "gepa":
        budget = plan.reflective_budget
        optimizer = GEPA(METRIC, max_metric_calls=budget, num_threads=NUM_THREADS, budget=Budget(max_calls=budget))
        compiled = optimizer.compile(program, train, dev[:GEPA_VALIDATION])
        return compiled, {"program_runs": optimizer.program_runs_, "search_score": optimizer.best_score_,
                          "candidates": len(optimizer.candidates_),
                          "instruction": compiled.classify.signature.instructions}
    if method == "bootstrap":
        optimizer = BootstrapFewShot(METRIC, num_threads=NUM_THREADS, **demos)
        return optimizer.compile(program, train), {"program_runs": optimizer.attempts_}
    optimizer = MIPRO(METRIC, settings=SearchSettings.preset("light", **search), num_threads=NUM_THREADS)
    compiled = optimizer.compile(program, train, dev)
    return compiled, {"program_runs": optimizer.program_runs_, "proposal_calls": optimizer.proposal_usage_.calls,
                      "search_score": optimizer.best_score_, "baseline_search_score": optimizer.baseline_score_,
                      "trials": len(optimizer.trials_), "instruction": compiled.classify.signature.instructions,
                      "demos": len(compiled.classify.demos), "omitted": list(compiled.classify.omitted),
                      "demo_pool": _pool(compiled.classify.demo_pool),
                      "proposed_instructions": optimizer.proposed_["classify"]}


def _measure(method: str, train: list, dev: list, test: list, plan: Plan) -> dict[str, Any]:
    with fresh_cache_dir(), context(lm=LM()):
        started = time.perf_counter()
        with track_usage() as compile_usage:
            compiled, details = _compile(method, train, dev, plan)
        compile_seconds = time.perf_counter() - started
        dev_result = evaluate(compiled, dev, METRIC, num_threads=NUM_THREADS, description=f"{method} on dev")
        test_result = evaluate(compiled, test, METRIC, num_threads=NUM_THREADS, description=f"{method} on test")
    usage = compile_usage.total
    proposal_calls = details.get("proposal_calls", 0)
    return {"method": method, "dev_accuracy": dev_result.score, "test_accuracy": test_result.score,
            "dev_interval": with_interval([item.score for item in dev_result.results]),
            "test_interval": with_interval([item.score for item in test_result.results]),
            "compile_task_calls": usage.calls - proposal_calls, "compile_proposal_calls": proposal_calls,
            "compile_tokens": usage.total_tokens, "compile_seconds": compile_seconds,
            "evaluation_calls": dev_result.usage.calls + test_result.usage.calls,
            "evaluation_tokens": dev_result.usage.total_tokens + test_result.usage.total_tokens,
            "seconds": time.perf_counter() - started, "dev_labels": predicted_labels(dev_result),
            "test_labels": predicted_labels(test_result), **details}


def predicted_labels(result: EvaluationResult) -> list[str | None]:
    """Each question's predicted label in split order (None: unreadable), so that methods can be compared and
    combined later without an LM call."""
    return [(item.outputs or {}).get("label") for item in result.results]


def run(quick: bool) -> dict[str, Any]:
    plan = QUICK if quick else FULL
    train, dev, test = splits(plan)
    measured = {}
    sizes = {"train": len(train), "dev": len(dev), "test": len(test)}
    # A stored MIPRO result is reused only if it ran with the search settings of today.
    mipro_settings = {**sizes, "search": asdict(SearchSettings.preset("light", **plan.search))}
    for method in MEASURING_ORDER:
        settings = {"mipro": mipro_settings, "gepa": {**sizes, "validation": GEPA_VALIDATION}}.get(method, sizes)
        measured[method] = checkpointed("optimizers_trec", method, settings,
                                        lambda method=method: _measure(method, train, dev, test, plan), quick)
        print(f"{method}: dev {measured[method]['dev_accuracy']:.3f}, "
              f"test {measured[method]['test_accuracy']:.3f}", flush=True)
    methods = [measured[method] for method in METHODS]
    ensemble = best_ensemble(methods, dev, test, METRIC)
    return {**sizes, "methods": methods + ([ensemble] if ensemble else [])}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {m['method']} | {_accuracy(m, 'dev')} | {_accuracy(m, 'test')} | {m['compile_task_calls']} | "
            f"{m['compile_proposal_calls']} | {m.get('program_runs', 0)} | {m['compile_tokens']} | "
            f"{m['compile_seconds']:.0f} | {m['evaluation_calls']} | {m['seconds']:.0f} |"
            for m in result["methods"]]
    by_name = {m["method"]: m for m in result["methods"]}
    mipro = by_name["mipro"]
    gain = mipro["test_accuracy"] - by_name["zero-shot"]["test_accuracy"]
    return "\n".join([
        f"Train {result['train']}, dev {result['dev']}, test {result['test']}.", "",
        "| method | dev accuracy | test accuracy | optimizer task calls | proposal calls | program runs | "
        "optimizer tokens | optimizer seconds | evaluation calls | total seconds |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
        *rows, "",
        f"MIPRO light against zero-shot on test: {gain:+.3f}; against BootstrapFewShot: "
        f"{mipro['test_accuracy'] - by_name['bootstrap']['test_accuracy']:+.3f}. MIPRO made "
        f"{mipro.get('program_runs', 0)} program runs in {mipro.get('trials', 0)} trials (DSPy light: about 670); "
        f"it chose {_demos_chosen(mipro)} and the instruction: \"{mipro.get('instruction', '')}\"",
        *_chosen_on_dev(by_name), *_ensembled(result["methods"][-1]), *_reflective(by_name), *_proposals(mipro),
    ])


def _chosen_on_dev(by_name: dict[str, dict[str, Any]]) -> list[str]:
    """The KNNFewShot setting and the method dev chooses, with their test accuracy: the claims' numbers."""
    lines = [""]
    for label, names in (("KNNFewShot setting", KNN_METHODS), ("method", list(by_name))):
        measured = [by_name[name] for name in names if name in by_name]
        if not measured:
            continue
        chosen = max(measured, key=lambda m: m["dev_accuracy"])
        lines.append(f"The {label} with the best dev accuracy is {chosen['method']} "
                     f"({chosen['dev_accuracy']:.3f}); on test it scores {_accuracy(chosen, 'test')}.")
    return lines


def _ensembled(last: dict[str, Any]) -> list[str]:
    """The ensemble row's members: the `Ensemble` of these programs answers as the row says."""
    if "members" not in last:
        return []
    return [f"The {last['method']} is the majority of {', '.join(last['members'])} (a tie goes to the first), the "
            "best on dev of the ensembles of 3 or 5 measured programs that kept their predictions; an `Ensemble` "
            "of them costs their calls together."]


def _reflective(by_name: dict[str, dict[str, Any]]) -> list[str]:
    gepa, mipro = by_name.get("gepa"), by_name["mipro"]
    if gepa is None:
        return []
    return ["", f"GEPA at a budget of {REFLECTIVE_BUDGET} LM calls: test {_accuracy(gepa, 'test')} in "
            f"{gepa['compile_task_calls'] + gepa['compile_proposal_calls']} optimizer LM calls, against MIPRO "
            f"light's {_accuracy(mipro, 'test')} in {mipro['compile_task_calls'] + mipro['compile_proposal_calls']}."]


def _pool(pool: DemoPool | None) -> dict[str, Any] | None:
    return None if pool is None else {"k": pool.k, "similarity": pool.similarity}


def _demos_chosen(mipro: dict[str, Any]) -> str:
    pool = mipro.get("demo_pool")
    if pool:
        return f"each call's {pool['k']} nearest training questions ({pool['similarity']})"
    return f"{mipro.get('demos', 0)} demos"


def _accuracy(method: dict[str, Any], split: str) -> str:
    """Accuracy with its interval where the result has one (results stored before intervals have not)."""
    interval = method.get(f"{split}_interval")
    return shown(interval) if interval else f"{method[f'{split}_accuracy']:.3f}"


def _proposals(mipro: dict[str, Any]) -> list[str]:
    proposed = mipro.get("proposed_instructions")
    if not proposed:
        return []
    # On one line each: a proposal that loops repeats its own list items, which would read as this list's.
    return ["", "MIPRO's instruction proposals and what became of them:", "",
            *(f"- {proposal['outcome']}: \"{' '.join(proposal['text'].split())}\"" for proposal in proposed)]

"""The reference for `optimizers_trec`: DSPy's own MIPROv2 `auto="light"` on the same task and model. The
same declaration (instruction, typed label, label guide), the embedded model's worker pool behind a
litellm provider (`benchmarks/litellm_local.py`), compiled on `train` with dev as its validation set (DSPy
light draws 100 of it), then scored on dev (300) and test (500) like sigflow's methods. DSPy's LM cache is
off, so every call is real; program runs are counted where the program runs, LM calls by callbacks on the
task and proposal LMs (DSPy's copies of an LM keep its callbacks), tokens from DSPy's global history.

DSPy is not a dependency of sigflow: `pip install -e '.[reference]'` before running this benchmark."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace
from typing import Any

from benchmarks.harness import checkpointed, stored
from benchmarks.litellm_local import register_local_provider
from benchmarks.optimizers_trec import FULL, NUM_THREADS, QUICK, splits
from pipelines.programs.classify import LABEL_GUIDE, AnswerType, ClassifyQuestion
from pipelines.settings import LOCAL_MODEL

MAX_TOKENS = 1000  # sigflow's default for a call
# Quick mode smoke-tests the script: one question each to validate and test on, one candidate, one trial,
# a bare proposal prompt (no data, code, demos or tip), and replies cut at 60 tokens, as the 0.5B model can
# write on to the limit when it strays from the format. Most of its time goes to DSPy's four scorings: a reply
# written off-format is asked again through DSPy's JSON adapter.
QUICK_MAX_TOKENS = 60
QUICK_PLAN = replace(QUICK, sizes={**QUICK.sizes, "dev": 1, "test": 1})
QUICK_OPTIMIZER = {"auto": None, "num_candidates": 1}
QUICK_COMPILE = {"num_trials": 1, "minibatch": False, "max_bootstrapped_demos": 1, "max_labeled_demos": 1,
                 "data_aware_proposer": False, "program_aware_proposer": False, "fewshot_aware_proposer": False,
                 "tip_aware_proposer": False}


def run(quick: bool) -> dict[str, Any]:
    try:
        import dspy
    except ImportError as error:
        raise SystemExit("dspy_mipro_trec needs DSPy: pip install -e '.[reference]'") from error
    register_local_provider()  # DSPy calls litellm
    train, dev, test = ([dspy.Example(question=example["question"], label=example["label"]).with_inputs("question")
                         for example in examples] for examples in splits(QUICK_PLAN if quick else FULL))
    # The compile (one to two hours in full) and each scoring are kept as they finish, so a cut-short run
    # resumes after the last finished part; the compiled program travels as DSPy's own JSON state.
    task_calls = call_counter(dspy)
    task_lm = reference_lm(dspy, task_calls, quick)
    # An unreadable reply scores 0, as in sigflow, instead of ending the run after DSPy's default 10 errors.
    dspy.configure(lm=task_lm, max_errors=len(train) + len(dev) + len(test))
    settings = {"dspy": dspy.__version__, "model": LOCAL_MODEL, "train": len(train), "dev": len(dev),
                "test": len(test), "auto": "light"}
    compiled = checkpointed("dspy_mipro_trec", "compile", settings,
                            lambda: _compile(dspy, task_lm, task_calls, train, dev, quick), quick)
    program = _program(dspy, itertools.count())
    program.load_state(compiled["state"])
    # Test first: it is the figure compared with sigflow.
    scores = {split: checkpointed("dspy_mipro_trec", split, settings,
                                  lambda examples=examples: _score(dspy, program, examples), quick)
              for split, examples in (("test", test), ("dev", dev))}
    predictor = program.predictors()[0]
    return {"dspy": dspy.__version__, "train": len(train), "dev": len(dev), "test": len(test),
            "dev_accuracy": scores["dev"]["accuracy"], "test_accuracy": scores["test"]["accuracy"],
            "dev_unreadable": scores["dev"]["unreadable"], "test_unreadable": scores["test"]["unreadable"],
            **{key: value for key, value in compiled.items() if key != "state"},
            "demos": len(predictor.demos), "instruction": predictor.signature.instructions}


def _compile(dspy, task_lm, task_calls, train: list, dev: list, quick: bool) -> dict[str, Any]:
    """MIPROv2 on `train` with `dev` as its validation set: its counts, and the compiled program's state."""
    from dspy.clients.base_lm import GLOBAL_HISTORY

    proposal_calls = call_counter(dspy)
    prompt_lm = reference_lm(dspy, proposal_calls, quick)
    runs = itertools.count()
    optimizer = dspy.MIPROv2(_metric, prompt_model=prompt_lm, task_model=task_lm, num_threads=NUM_THREADS,
                             **(QUICK_OPTIMIZER if quick else {"auto": "light"}))
    started = time.perf_counter()
    compiled = optimizer.compile(_program(dspy, runs), trainset=train, valset=dev, **(QUICK_COMPILE if quick else {}))
    return {"program_runs": next(runs), "compile_task_calls": task_calls.count,
            "compile_proposal_calls": proposal_calls.count,
            "compile_tokens": sum((entry.get("usage") or {}).get("total_tokens", 0) for entry in GLOBAL_HISTORY),
            "compile_seconds": time.perf_counter() - started, "state": compiled.dump_state()}


def _program(dspy, runs: itertools.count):
    class DspyClassifyQuestion(dspy.Signature):
        __doc__ = ClassifyQuestion.instructions
        question: str = dspy.InputField()
        label: AnswerType = dspy.OutputField(desc=LABEL_GUIDE)

    class Classify(dspy.Module):
        def __init__(self):
            super().__init__()
            self.classify = dspy.Predict(DspyClassifyQuestion)

        def forward(self, question: str):
            next(runs)  # a counter shared by every copy DSPy makes of the program
            return self.classify(question=question)

    return Classify()


def reference_lm(dspy, counter, quick: bool):
    """The embedded model without DSPy's cache, so every call is real and counted."""
    return dspy.LM(LOCAL_MODEL, cache=False, temperature=0.0, max_tokens=QUICK_MAX_TOKENS if quick else MAX_TOKENS,
                   callbacks=[counter])


def _metric(example, prediction, trace=None) -> bool:
    return example.label == getattr(prediction, "label", None)


def call_counter(dspy):
    """A DSPy callback counting the LM calls it hears of (`count`); DSPy calls from several threads."""
    class CallCounter(dspy.utils.callback.BaseCallback):
        def __init__(self):
            self.count = 0
            self._lock = threading.Lock()

        def on_lm_start(self, call_id, instance, inputs):
            with self._lock:
                self.count += 1

    return CallCounter()


def _score(dspy, program, examples: list) -> dict[str, Any]:
    """Accuracy, and how many replies DSPy could not parse (they score 0, as in sigflow)."""
    evaluate = dspy.Evaluate(devset=examples, metric=_metric, num_threads=NUM_THREADS, display_progress=False)
    result = evaluate(program)
    return {"accuracy": result.score / 100,
            "unreadable": sum("label" not in prediction for _, prediction, _ in result.results)}


def report(result: dict[str, Any]) -> str:
    return "\n".join([
        f"DSPy {result['dspy']}; train {result['train']}, dev {result['dev']}, test {result['test']}.", "",
        "| optimizer | dev accuracy | test accuracy | program runs | optimizer task calls | proposal calls | "
        "optimizer tokens | optimizer seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| DSPy MIPROv2 light | {result['dev_accuracy']:.3f} | {result['test_accuracy']:.3f} | "
        f"{result['program_runs']} | {result['compile_task_calls']} | {result['compile_proposal_calls']} | "
        f"{result['compile_tokens']} | {result['compile_seconds']:.0f} |", "",
        f"DSPy could not parse {result['dev_unreadable']} of the {result['dev']} dev replies and "
        f"{result['test_unreadable']} of the {result['test']} test replies; they score 0, as in sigflow. "
        f"It chose {result['demos']} demos and the instruction: \"{result['instruction']}\".", "",
        _comparison(result),
    ])


def _comparison(result: dict[str, Any]) -> str:
    """sigflow's MIPRO light from the stored `optimizers_trec` result, against this reference."""
    sigflow = stored("optimizers_trec")
    if sigflow is None:
        return "Run `optimizers_trec` to compare with sigflow's MIPRO light."
    mipro = next(method for method in sigflow["result"]["methods"] if method["method"] == "mipro")
    return (f"sigflow's MIPRO light (`optimizers_trec`): dev {mipro['dev_accuracy']:.3f}, test "
            f"{mipro['test_accuracy']:.3f} ({mipro['test_accuracy'] - result['test_accuracy']:+.3f} against DSPy) "
            f"in {mipro['program_runs']} program runs, {mipro['program_runs'] / result['program_runs']:.0%} of "
            f"DSPy's {result['program_runs']}.")

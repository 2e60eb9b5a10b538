"""The reference for `hotpotqa_programs`: DSPy's BootstrapFewShot (2 bootstrapped + 2 labelled demos, the
setting of its 16.0 EM on dev[:50]) and MIPROv2 `auto="light"` on the same `rag`: sigflow's MiniLM store and
k=3, the same instruction and fields, a chain-of-thought answer, the embedded model behind a litellm provider,
the same training questions, the same dev questions to choose on (MIPROv2's validation set) and to score on,
the same F1 and EM. DSPy's cache is off, so every call is real; LM calls are counted by callbacks.

DSPy is not a dependency of sigflow: `pip install -e '.[reference]'` before running this benchmark."""

from __future__ import annotations

import itertools
import time
from typing import Any

from benchmarks.dspy_mipro_trec import NUM_THREADS, QUICK_COMPILE, QUICK_OPTIMIZER, call_counter, reference_lm
from benchmarks.harness import checkpointed
from benchmarks.hotpotqa_programs import FULL, METRICS, QUICK
from benchmarks.litellm_local import register_local_provider
from benchmarks.rag_zero_shot import quick_corpus
from benchmarks.retrieval_hotpotqa import DATA_DIR
from benchmarks.stats import shown, with_interval
from pipelines.datasets import load_dataset
from pipelines.programs.rag import DEFAULT_K, AnswerFromContext
from pipelines.retrieval.indexes import cached_store
from pipelines.settings import LOCAL_MODEL

OPTIMIZERS = ("bootstrap", "mipro")


def run(quick: bool) -> dict[str, Any]:
    try:
        import dspy
    except ImportError as error:
        raise SystemExit("dspy_hotpotqa needs DSPy: pip install -e '.[reference]'") from error
    register_local_provider()
    plan = QUICK if quick else FULL
    dataset = load_dataset("hotpotqa", DATA_DIR)
    dev = dataset.split("dev")
    train, choose, scored = dataset.split("train", plan.train), dev[:plan.choose], \
        dev[plan.choose:plan.choose + plan.score]
    store = cached_store("hotpotqa-quick" if quick else "hotpotqa",
                         quick_corpus(dataset, choose + scored) if quick else dataset.corpus)
    examples = {name: [dspy.Example(question=e.question, answer=e.answer, gold_titles=e["gold_titles"])
                       .with_inputs("question") for e in split]
                for name, split in (("train", train), ("choose", choose), ("scored", scored))}
    calls = call_counter(dspy)
    dspy.configure(lm=reference_lm(dspy, calls, quick), max_errors=sum(len(split) for split in examples.values()))
    sizes = {name: len(split) for name, split in examples.items()}
    settings = {"dspy": dspy.__version__, "model": LOCAL_MODEL, **sizes}
    runs = itertools.count()
    rows = []
    for name in OPTIMIZERS:
        compiled = checkpointed("dspy_hotpotqa", f"{name}-compile", settings,
                                lambda name=name: _compile(dspy, name, store, examples, calls, quick), quick)
        program = _program(dspy, store, runs)
        program.load_state(compiled["state"])
        score = checkpointed("dspy_hotpotqa", f"{name}-score", settings,
                             lambda program=program: _score(dspy, program, examples["scored"], calls), quick)
        rows.append({"optimizer": name, **{key: value for key, value in compiled.items() if key != "state"},
                     **score, "demos": len(program.generate.predict.demos),
                     "instruction": program.generate.predict.signature.instructions})
    return {**settings, "rows": rows}


def _program(dspy, store, runs: itertools.count):
    class GenerateAnswer(dspy.Signature):
        __doc__ = AnswerFromContext.instructions
        context: list[str] = dspy.InputField(desc=AnswerFromContext.input_fields["context"].desc)
        question: str = dspy.InputField()
        answer: str = dspy.OutputField(desc=AnswerFromContext.output_fields["answer"].desc)

    class RAG(dspy.Module):
        def __init__(self):
            super().__init__()
            self.generate = dspy.ChainOfThought(GenerateAnswer)

        def forward(self, question: str):
            next(runs)  # shared by every copy DSPy makes of the program
            hits = store.search(question, DEFAULT_K)
            answer = self.generate(context=[hit.passage.text for hit in hits], question=question)
            return dspy.Prediction(reasoning=answer.reasoning, answer=answer.answer,
                                   titles=[hit.passage.title for hit in hits])

    return RAG()


def _metric(example, prediction, trace=None) -> float:
    return METRICS["f1"].score(example, {"answer": getattr(prediction, "answer", "")})


def _compile(dspy, name: str, store, examples: dict[str, list], calls, quick: bool) -> dict[str, Any]:
    runs = itertools.count()
    before = calls.count
    started = time.perf_counter()
    program = _program(dspy, store, runs)
    if name == "bootstrap":
        optimizer = dspy.BootstrapFewShot(metric=_metric, max_bootstrapped_demos=2, max_labeled_demos=2)
        compiled = optimizer.compile(program, trainset=examples["train"])
    else:
        optimizer = dspy.MIPROv2(_metric, num_threads=NUM_THREADS, **(QUICK_OPTIMIZER if quick else {"auto": "light"}))
        compiled = optimizer.compile(program, trainset=examples["train"], valset=examples["choose"],
                                     **(QUICK_COMPILE if quick else {}))
    return {"program_runs": next(runs), "optimizer_lm_calls": calls.count - before,
            "compile_seconds": time.perf_counter() - started, "state": compiled.dump_state()}


def _score(dspy, program, examples: list, calls) -> dict[str, Any]:
    before = calls.count
    evaluate = dspy.Evaluate(devset=examples, metric=_metric, num_threads=NUM_THREADS, display_progress=False)
    results = evaluate(program).results
    outputs = [{"answer": getattr(prediction, "answer", ""), "titles": getattr(prediction, "titles", [])}
               for _, prediction, _ in results]
    exact = [METRICS["exact_match"].score(example, out) for (example, _, _), out in zip(results, outputs, strict=True)]
    return {"exact_match": with_interval(exact), "exact_match_scores": exact,
            "f1": with_interval([float(score) for _, _, score in results]),
            "recall_all": sum(METRICS["recall_all"].score(example, out) for (example, _, _), out
                              in zip(results, outputs, strict=True)) / max(1, len(results)),
            "unreadable": sum(not getattr(prediction, "answer", None) for _, prediction, _ in results),
            "evaluation_lm_calls": calls.count - before}


def report(result: dict[str, Any]) -> str:
    rows = [f"| DSPy {row['optimizer']} | {shown(row['exact_match'])} | {shown(row['f1'])} | {row['recall_all']:.3f} | "
            f"{row['unreadable']} | {row['optimizer_lm_calls']} | {row['evaluation_lm_calls']} | "
            f"{row['compile_seconds']:.0f} |" for row in result["rows"]]
    return "\n".join([
        f"DSPy {result['dspy']}; train {result['train']}, chosen on {result['choose']} dev questions, scored on "
        f"the next {result['scored']}.", "",
        "| method | EM [95% CI] | F1 [95% CI] | recall (both gold) | unreadable | optimizer LM calls | "
        "evaluation LM calls | compile seconds |", "|---|---|---|---:|---:|---:|---:|---:|", *rows, "",
        *(f"DSPy {row['optimizer']} kept {row['demos']} demos and the instruction \"{row['instruction']}\"."
          for row in result["rows"])])

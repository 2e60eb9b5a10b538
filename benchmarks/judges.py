"""The shipped LM judges against labels written by reading 60 predictions of zero-shot `rag` (k=3) on the
last 60 HotpotQA training questions (no benchmark chooses or scores on training questions): for each prediction,
whether its answer says what the gold answer says (`answer_correct`) and whether the three passages it read
state it (`grounded`). Each judge runs on the embedded model from an empty LM cache; agreement is the share
of predictions where the judge's verdict equals the label, with Cohen's kappa (agreement beyond what the two
label rates give by chance) and the judge's rates of saying yes to a labelled no and no to a labelled yes.

`benchmarks/data/judge_labels.json` holds, per question id, the answer `rag` gave, the ids of the passages it
read and the two labels; the questions, gold answers and passage texts are read from `../shared/data/hotpotqa`
(HotpotQA is not copied into the project). `python -m benchmarks.judges predict` wrote the predictions; the
labels were then written by hand."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sklearn.metrics import cohen_kappa_score

from benchmarks.harness import fresh_cache_dir
from benchmarks.retrieval_hotpotqa import DATA_DIR
from pipelines import LM, Example, context, evaluate, exact_match, token_f1
from pipelines.datasets import load_dataset
from pipelines.evaluation.judges import answer_correct, grounded
from pipelines.lm.usage import track_usage
from pipelines.parallel import parallel_map
from pipelines.programs import RAG
from pipelines.retrieval.indexes import cached_store

LABELS = Path(__file__).parent / "data" / "judge_labels.json"
COUNT = 60
JUDGES = {"answer_correct": ("correct", answer_correct), "grounded": ("grounded", grounded)}
QUICK_COUNT = 4
NUM_THREADS = 4


def write_predictions() -> None:
    """Run zero-shot `rag` on the questions and store what each answered and read, for labelling."""
    dataset = load_dataset("hotpotqa", DATA_DIR)
    questions = dataset.split("train")[-COUNT:]
    with context(lm=LM()):
        result = evaluate(RAG(cached_store("hotpotqa", dataset.corpus)), questions, token_f1(), num_threads=4,
                          description="rag on the questions to label")
    rows = [{"id": item.example.example_id, "answer": (item.outputs or {}).get("answer", ""),
             "passage_ids": (item.outputs or {}).get("passage_ids", []), "correct": None, "grounded": None}
            for item in result.results]
    LABELS.parent.mkdir(parents=True, exist_ok=True)
    LABELS.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def labelled() -> tuple[list[Example], list[dict[str, Any]], list[dict[str, Any]]]:
    """The labelled questions as examples, the outputs `rag` gave (answer and passages), and the rows."""
    rows = json.loads(LABELS.read_text(encoding="utf-8"))
    unlabelled = [row["id"] for row in rows if row["correct"] is None or row["grounded"] is None]
    if unlabelled:
        raise SystemExit(f"{LABELS} has predictions without labels: {unlabelled[:5]}")
    dataset = load_dataset("hotpotqa", DATA_DIR)
    questions = {example.example_id: example for example in dataset.split("train")}
    texts = {passage.id: passage.text for passage in dataset.corpus}
    examples = [questions[row["id"]] for row in rows]
    outputs = [{"answer": row["answer"], "passages": [texts[pid] for pid in row["passage_ids"]]} for row in rows]
    return examples, outputs, rows


def run(quick: bool) -> dict[str, Any]:
    examples, outputs, rows = labelled()
    if quick:
        examples, outputs, rows = examples[:QUICK_COUNT], outputs[:QUICK_COUNT], rows[:QUICK_COUNT]
    judged = {name: _agreement(make(), examples, outputs, [row[label] for row in rows])
              for name, (label, make) in JUDGES.items()}
    pairs = list(zip(examples, outputs, strict=True))
    strings = {metric.name: sum(metric.score(example, output) for example, output in pairs) / len(pairs)
               for metric in (exact_match(), token_f1())}
    return {"n": len(rows), "label_rates": {label: sum(row[label] for row in rows) / len(rows)
                                            for label, _ in JUDGES.values()},
            "string_metrics": strings, "judges": judged}


def _agreement(judge, examples: list[Example], outputs: list[dict], labels: list[bool]) -> dict[str, Any]:
    with fresh_cache_dir(), track_usage() as usage:
        started = time.perf_counter()
        verdicts = parallel_map(lambda pair: float(judge(*pair)) >= 0.5, list(zip(examples, outputs, strict=True)),
                                num_threads=NUM_THREADS, description=f"judging with {judge.__name__}")
        seconds = time.perf_counter() - started
    agree = sum(verdict == label for verdict, label in zip(verdicts, labels, strict=True)) / len(labels)
    yes_judge = sum(verdicts) / len(verdicts)
    kappa = float(cohen_kappa_score(labels, verdicts)) if len(set(labels) | set(verdicts)) > 1 else 1.0
    false_yes = sum(verdict and not label for verdict, label in zip(verdicts, labels, strict=True))
    false_no = sum(label and not verdict for verdict, label in zip(verdicts, labels, strict=True))
    return {"agreement": agree, "kappa": kappa, "judge_yes_rate": yes_judge, "false_yes": false_yes,
            "labelled_no": labels.count(False), "false_no": false_no, "labelled_yes": labels.count(True),
            "judge_calls": usage.total.judge_calls, "unreadable": usage.total.parse_failures, "seconds": seconds}


def report(result: dict[str, Any]) -> str:
    rows = [f"| {name} | {judged['agreement']:.3f} | {judged['kappa']:.3f} | "
            f"{result['label_rates'][JUDGES[name][0]]:.3f} | {judged['judge_yes_rate']:.3f} | "
            f"{judged['false_yes']} of {judged['labelled_no']} | {judged['false_no']} of {judged['labelled_yes']} | "
            f"{judged['judge_calls']} | {judged['unreadable']} | {judged['seconds']:.0f} |"
            for name, judged in result["judges"].items()]
    strings = ", ".join(f"{name} {value:.3f}" for name, value in result["string_metrics"].items())
    return "\n".join([
        f"{result['n']} labelled predictions; the same predictions by string metrics: {strings}.", "",
        "| judge | agreement | Cohen's kappa | labelled yes rate | judge's yes rate | yes to a labelled no | "
        "no to a labelled yes | judge calls | unreadable | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|", *rows])


if __name__ == "__main__" and sys.argv[1:] == ["predict"]:
    write_predictions()

"""Zero-shot `rag` (k=3, chain of thought) with the embedded model, the LM cache off: the first 100 HotpotQA
dev questions over the full corpus, and the 40 dev questions of sigflow's BBC set over all 2,225 articles.
HotpotQA-normalized exact match and token F1, retrieval recall of the gold title(s), LM calls, time."""

from __future__ import annotations

from typing import Any

from benchmarks.retrieval_hotpotqa import DATA_DIR
from pipelines import LM
from sigflow.jobs.evaluate import evaluate_program


def run(quick: bool) -> dict[str, Any]:
    settings = {"hotpotqa": 2 if quick else 100, "bbc": 2 if quick else None}
    results = {}
    for dataset, limit in settings.items():
        summary = evaluate_program("rag", dataset=dataset, data_dir=DATA_DIR, split="dev", limit=limit,
                                   lm=LM(cache=False), num_threads=4, log=False).summary()
        results[dataset] = summary
    return results


def report(result: dict[str, Any]) -> str:
    rows = [f"| {name} | {r['n']} | {r['metrics']['exact_match']:.3f} | {r['metrics']['f1']:.3f} | "
            f"{r['metrics']['recall_any']:.3f} | {r['lm_calls']} | {r['prompt_tokens']} + {r['completion_tokens']} | "
            f"{r['seconds']:.0f} | {r['parse_failures']} |" for name, r in result.items()]
    return "\n".join([
        "| dataset | questions | EM | F1 | recall@3 (any gold) | LM calls | tokens | seconds | unparseable |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "For reference, DSPy 3.4.1 on the same model and retrieval got 9.0 EM / 19.0 F1 on HotpotQA dev[:100]. "
        "Recall here counts a question whose reply could not be parsed as a miss (its outputs, passages "
        "included, are lost with the failed step); retrieval alone is measured by `retrieval_hotpotqa`.",
    ])

"""The pipeline commands of `sigflow`: evaluate, predict, index build (added to the group by the entry point)."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.cli import json_option, lm_option, print_json
from pipelines.lm.client import LM

MLRUNS = Path("mlruns")
program_argument = click.argument("program", metavar="PROGRAM")
dataset_option = click.option("--dataset", default=None, help="trec (classify), bbc or hotpotqa (rag).")
data_dir_option = click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                               help="Directory of the hotpotqa files (e.g. ../shared/data/hotpotqa).")
state_option = click.option("--state", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                            default=None, help="Program state JSON to load (from optimize).")


@click.command()
@program_argument
@dataset_option
@data_dir_option
@click.option("--split", default="dev", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Evaluate the first N examples only.")
@state_option
@click.option("--threads", type=click.IntRange(min=1), default=4, show_default=True)
@lm_option
@json_option
def evaluate(program, dataset, data_dir, split, limit, state, threads, lm_model, as_json) -> None:
    """Score PROGRAM (classify or rag) on a dataset split; logged to MLflow with its predictions."""
    from pipelines import tracking
    from pipelines.runs import evaluate_program

    tracking.use_local_store(MLRUNS)
    report = evaluate_program(program, dataset=dataset, data_dir=data_dir, split=split, limit=limit, state=state,
                              lm=LM(lm_model), num_threads=threads)
    summary = report.summary()
    click.echo(f"{summary['program']} on {summary['dataset']}/{summary['split']}: {summary['metric']} "
               f"{summary['score']:.3f} over {summary['n']} examples; "
               + ", ".join(f"{name} {value:.3f}" for name, value in summary["metrics"].items()))
    click.echo(f"{summary['lm_calls']} LM calls, {summary['cache_hits']} cache hits, "
               f"{summary['parse_failures']} unparseable, {summary['errors']} errors, {summary['seconds']:.1f} s; "
               f"MLflow run {summary['run_id']}")
    if as_json:
        print_json(summary)


@click.command()
@program_argument
@click.argument("text")
@dataset_option
@data_dir_option
@state_option
@lm_option
@json_option
def predict(program, text, dataset, data_dir, state, lm_model, as_json) -> None:
    """Run PROGRAM on one input TEXT (a question)."""
    from pipelines.runs import predict_text

    answer = predict_text(program, text, dataset=dataset, data_dir=data_dir, state=state, lm=LM(lm_model))
    if as_json:
        print_json(answer)
        return
    for name, value in answer["outputs"].items():
        click.echo(f"{name}: {value}")


@click.command()
@click.argument("run_id")
@click.option("--metric", "metric_name", required=True, help="A metric of the run's program (e.g. macro_f1).")
@json_option
def rescore(run_id, metric_name, as_json) -> None:
    """Re-score a logged evaluation with another metric, from its stored predictions (no LM call)."""
    from pipelines import tracking
    from pipelines.runs import rescore_run

    tracking.use_local_store(MLRUNS)
    result = rescore_run(run_id, metric_name)
    click.echo(f"{result['metric']}: {result['score']:.3f} over {result['n']} stored predictions "
               f"(was {result['previous_metric']} {result['previous_score']:.3f}); 0 LM calls")
    if as_json:
        print_json(result)


@click.group()
def index() -> None:
    """Vector store commands."""


@index.command("build")
@click.option("--dataset", required=True, help="bbc or hotpotqa.")
@data_dir_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory to save the store in (default: the cache, where rag finds it).")
@json_option
def build_index(dataset, data_dir, out, as_json) -> None:
    """Embed a dataset's corpus and save its FAISS index."""
    import time

    from pipelines.datasets import load_dataset
    from pipelines.retrieval.indexes import cached_store

    started = time.perf_counter()
    loaded = load_dataset(dataset, data_dir)
    if loaded.corpus is None:
        raise click.UsageError(f"dataset {dataset!r} has no corpus to index")
    store = cached_store(loaded.name, loaded.corpus, out)
    summary = {"dataset": loaded.name, "passages": len(store), "corpus_hash": store.corpus_hash,
               "seconds": round(time.perf_counter() - started, 2)}
    click.echo(f"indexed {summary['passages']} passages of {dataset} in {summary['seconds']} s")
    if as_json:
        print_json(summary)


COMMANDS = (evaluate, predict, rescore, index)

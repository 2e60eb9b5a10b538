"""The evaluation store: each evaluation's predictions as versioned JSON, so any metric can re-score them
later with zero LM calls."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from pipelines.evaluation.evaluate import EvaluationResult, ExampleResult
from pipelines.fieldtypes import to_jsonable
from pipelines.lm.usage import Usage
from pipelines.primitives import Example
from pipelines.versioned import FileFormat

STORED_EVALUATION = FileFormat("sigflow.evaluation", 1, "a stored sigflow evaluation")


class EvaluationFileError(ValueError):
    """A file that is not a stored evaluation this version can read."""


def evaluation_to_dict(result: EvaluationResult) -> dict[str, Any]:
    return {
        **STORED_EVALUATION.header(),
        "metric": result.metric,
        "score": result.score,
        "seconds": result.seconds,
        "program_fingerprint": result.program_fingerprint,
        "usage": result.usage.to_dict(),
        "results": [{
            "example_id": item.example_id,
            "example": to_jsonable(item.example.to_dict()),
            "inputs": list(item.example.input_keys),
            "outputs": to_jsonable(item.outputs),
            "score": item.score,
            "error": item.error,
            "usage": item.usage.to_dict(),
            "seconds": item.seconds,
        } for item in result.results],
    }


def evaluation_from_dict(data: Any, source: str = "evaluation") -> EvaluationResult:
    STORED_EVALUATION.check(data, source, EvaluationFileError)
    try:
        results = [ExampleResult(example=Example(item["example"], input_keys=tuple(item["inputs"])),
                                 outputs=item["outputs"], score=item["score"], error=item["error"],
                                 usage=Usage(**item["usage"]), seconds=item["seconds"])
                   for item in data["results"]]
        return EvaluationResult(metric=data["metric"], score=data["score"], results=results,
                                usage=Usage(**data["usage"]), seconds=data["seconds"],
                                program_fingerprint=data["program_fingerprint"])
    except (KeyError, TypeError) as error:
        raise EvaluationFileError(f"{source} is damaged: {error!r}") from error


class EvaluationStore:
    """A directory of stored evaluations, one JSON file each, named by evaluation id."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def save(self, result: EvaluationResult) -> str:
        evaluation_id = uuid.uuid4().hex[:12]
        self.directory.mkdir(parents=True, exist_ok=True)
        partial = self.directory / f".{evaluation_id}.json.partial"
        partial.write_text(json.dumps(evaluation_to_dict(result), ensure_ascii=False) + "\n", encoding="utf-8")
        partial.replace(self._path(evaluation_id))
        return evaluation_id

    def load(self, evaluation_id: str) -> EvaluationResult:
        path = self._path(evaluation_id)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise KeyError(f"no evaluation {evaluation_id!r} in {self.directory}") from None
        except (OSError, json.JSONDecodeError) as error:
            raise EvaluationFileError(f"cannot read {path}: {error}") from error
        return evaluation_from_dict(data, source=str(path))

    def ids(self) -> list[str]:
        return sorted(path.stem for path in self.directory.glob("*.json"))

    def _path(self, evaluation_id: str) -> Path:
        if not evaluation_id.isalnum():
            raise KeyError(f"{evaluation_id!r} is not an evaluation id")
        return self.directory / f"{evaluation_id}.json"

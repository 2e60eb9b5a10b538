"""Registry versions of sigflow models, tagged with how they scored, and promotion gated on the score.

A version is tagged with its dataset, metric, validation score, optimizer, program fingerprint and the load
check publishing made. Moving an alias (by default `champion`) to a version requires that check passed, and a
score at least the current holder's on the same metric and dataset; `force` overrides the score gate (never
the load check) and records why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from serving import load_check
from serving.tracking import mlflow_module

SCORE_TAGS = ("dataset", "metric", "score", "optimizer", "fingerprint")
DEFAULT_ALIAS = "champion"


class PromotionRefused(ValueError):
    """The version has no passed load check, or scores below the alias's holder, or was scored otherwise;
    the message says which, with both scores."""


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    aliases: list[str]
    tags: dict[str, str]
    run_id: str | None

    @property
    def score(self) -> float | None:
        return float(self.tags["score"]) if "score" in self.tags else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "aliases": self.aliases, "score": self.score,
                "tags": self.tags, "run_id": self.run_id}


def register(model_uri: str, name: str, tags: Mapping[str, Any]) -> VersionInfo:
    """A new version of `name` from a logged model, tagged (values as text)."""
    mlflow = mlflow_module()
    version = mlflow.register_model(model_uri, name)
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version.version, key, str(value))
    return version_info(name, version.version)


def version_info(name: str, version: str) -> VersionInfo:
    client = mlflow_module().MlflowClient()
    try:
        found = client.get_model_version(name, str(version))
    except mlflow_module().exceptions.MlflowException as error:
        raise ValueError(f"no version {version} of registered model {name!r}") from error
    return VersionInfo(name, str(found.version), list(found.aliases), dict(found.tags), found.run_id)


def versions(name: str) -> list[VersionInfo]:
    """Every version of `name`, newest first."""
    mlflow = mlflow_module()
    found = mlflow.MlflowClient().search_model_versions(f"name = '{name}'")
    if not found:
        raise ValueError(f"no registered model {name!r}")
    return sorted((version_info(name, item.version) for item in found), key=lambda info: -int(info.version))


def promote(name: str, version: str, *, alias: str = DEFAULT_ALIAS, force: bool = False,
            reason: str | None = None) -> dict[str, Any]:
    """Point `alias` at `version` if it scores at least the current holder (same metric and dataset)."""
    candidate = version_info(name, version)
    if candidate.tags.get(load_check.TAG) != "passed":
        raise PromotionRefused(f"version {candidate.version} of {name!r} is not promoted to {alias!r}: it has no "
                               "passed load check (it was registered without `sigflow.publish`, or its check "
                               "failed); publish the program again")
    holder = _holder(name, alias)
    if holder is not None and holder.version != candidate.version:
        problem = _comparison_problem(candidate, holder)
        if problem and not force:
            raise PromotionRefused(f"version {candidate.version} is not promoted to {alias!r}: {problem}; "
                                   "pass --force (with a reason) to promote it anyway")
        if problem:
            mlflow_module().MlflowClient().set_model_version_tag(
                name, candidate.version, "forced_promotion", f"{problem}; reason: {reason or 'none given'}")
    mlflow_module().MlflowClient().set_registered_model_alias(name, alias, candidate.version)
    return {"name": name, "alias": alias, "version": candidate.version, "score": candidate.score,
            "previous_version": holder.version if holder else None, "previous_score": holder.score if holder else None,
            "forced": bool(force and holder is not None and _comparison_problem(candidate, holder))}


def aliased(name: str, alias: str) -> VersionInfo:
    """The version of `name` that `alias` points at, or a ValueError saying there is none."""
    holder = _holder(name, alias)
    if holder is None:
        raise ValueError(f"no version of registered model {name!r} has the alias {alias!r}; list them with "
                         f"`sigflow models {name}`")
    return holder


def _holder(name: str, alias: str) -> VersionInfo | None:
    mlflow = mlflow_module()
    try:
        found = mlflow.MlflowClient().get_model_version_by_alias(name, alias)
    except mlflow.exceptions.MlflowException:
        return None
    return version_info(name, found.version)


def _comparison_problem(candidate: VersionInfo, holder: VersionInfo) -> str | None:
    """Why `candidate` may not replace `holder`, or None."""
    for key in ("metric", "dataset"):
        if candidate.tags.get(key) != holder.tags.get(key):
            return (f"it was scored on {key} {candidate.tags.get(key)!r}, the holder (version {holder.version}) "
                    f"on {holder.tags.get(key)!r}")
    if candidate.score is None or holder.score is None:
        return f"a score is missing (version {candidate.version}: {candidate.score}, holder: {holder.score})"
    if candidate.score < holder.score:
        return (f"its {candidate.tags.get('metric')} {candidate.score:.4f} is below the holder's (version "
                f"{holder.version}) {holder.score:.4f}")
    return None

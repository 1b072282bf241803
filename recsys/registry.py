"""The MLflow model registry of `daily-question-ranker`: the only module that imports MLflow.

Versions are registered with alias `challenger`; the promotion gate moves `champion`. Each
promoted version carries a `previous_champion` tag, so rollback can walk the champions back in
order. The booster is logged in LightGBM's native format (MLflow 3 refuses to unpickle an
`LGBMRanker` through the sklearn flavour by default).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from recsys.features.build import FEATURE_NAMES
from recsys.ranking.lightgbm_scorer import LightGBMScorer

MODEL_NAME = "daily-question-ranker"
CHAMPION, CHALLENGER = "champion", "challenger"
EVALUATION_FILE = "evaluation.json"
MODEL_CARD_FILE = "model_card.md"
_URI_LOCK = threading.RLock()


class RegistryError(RuntimeError):
    """A registry operation cannot be done (no such alias, nothing to roll back to, ...)."""


@dataclass(frozen=True)
class VersionInfo:
    """A registered version: its number, run, aliases and tags."""

    version: str
    run_id: str
    aliases: list[str]
    tags: dict[str, str]


@dataclass(frozen=True)
class LoadedModel:
    version: str
    scorer: LightGBMScorer


@contextmanager
def _tracking(uri: str) -> Iterator[None]:
    """MLflow's fluent API reads a process-wide URI: set it for the duration of one operation."""
    import os

    import mlflow

    # Progress bars on every artifact download only clutter service logs.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with _URI_LOCK:
        previous = mlflow.get_tracking_uri()
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        try:
            yield
        finally:
            mlflow.set_tracking_uri(previous)
            mlflow.set_registry_uri(previous)


class ModelRegistry:
    """The registry at `tracking_uri`; artifacts of new experiments go to `artifact_location`."""

    def __init__(
        self,
        *,
        tracking_uri: str,
        artifact_location: Path | None = None,
        model_name: str = MODEL_NAME,
        experiment_name: str = MODEL_NAME,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.artifact_location = artifact_location
        self.model_name = model_name
        self.experiment_name = experiment_name

    def exists(self) -> bool:
        """False for a SQLite registry whose file is not there yet: looking must not create an empty one."""
        prefix = "sqlite:///"
        if not self.tracking_uri.startswith(prefix):
            return True
        return Path(self.tracking_uri.removeprefix(prefix)).is_file()

    @cached_property
    def client(self) -> Any:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def _experiment_id(self) -> str:
        experiment = self.client.get_experiment_by_name(self.experiment_name)
        if experiment is not None:
            return str(experiment.experiment_id)
        location = None
        if self.artifact_location is not None:
            self.artifact_location.mkdir(parents=True, exist_ok=True)
            location = self.artifact_location.resolve().as_uri()
        return str(self.client.create_experiment(self.experiment_name, artifact_location=location))

    def log_candidate(
        self,
        *,
        scorer: LightGBMScorer,
        params: Mapping[str, Any],
        metrics: Mapping[str, float],
        tags: Mapping[str, str],
        input_example: pd.DataFrame,
        evaluation: Mapping[str, Any],
        model_card: str,
        figures: Mapping[str, Figure] | None = None,
        run_name: str | None = None,
    ) -> VersionInfo:
        """Log one trained model with its evidence and register it as a new version aliased `challenger`."""
        import mlflow
        import mlflow.lightgbm
        from mlflow.models import infer_signature

        if list(input_example.columns) != FEATURE_NAMES:
            raise ValueError("the input example must have exactly the model's feature columns, in order")
        with _tracking(self.tracking_uri):
            experiment_id = self._experiment_id()
            with mlflow.start_run(experiment_id=experiment_id, run_name=run_name):
                mlflow.log_params(dict(params))
                mlflow.log_metrics({name: float(value) for name, value in metrics.items() if np.isfinite(value)})
                mlflow.set_tags(dict(tags))
                mlflow.log_dict(dict(evaluation), EVALUATION_FILE)
                mlflow.log_text(model_card, MODEL_CARD_FILE)
                for name, figure in (figures or {}).items():
                    mlflow.log_figure(figure, f"plots/{name}.png")
                output = scorer.score(
                    input_example.to_numpy(np.float32), n_pairs=len(input_example), rng=np.random.default_rng(0)
                )
                logged = mlflow.lightgbm.log_model(
                    scorer.booster,
                    name="model",
                    signature=infer_signature(input_example, output),
                    input_example=input_example,
                    registered_model_name=self.model_name,
                    # Explicit requirements: inferring them imports and probes the whole environment.
                    pip_requirements=[f"lightgbm=={lgb.__version__}", f"pandas=={pd.__version__}"],
                )
            version = str(logged.registered_model_version)
        for key, value in tags.items():
            self.client.set_model_version_tag(self.model_name, version, key, value)
        self.client.set_registered_model_alias(self.model_name, CHALLENGER, version)
        return self.version(version)

    def version(self, version: str) -> VersionInfo:
        found = self.client.get_model_version(self.model_name, version)
        return VersionInfo(
            version=str(found.version), run_id=str(found.run_id), aliases=list(found.aliases), tags=dict(found.tags)
        )

    def alias_version(self, alias: str) -> str | None:
        """The version an alias points at, or None (no such alias or no model registered yet)."""
        from mlflow.exceptions import MlflowException

        try:
            return str(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException:
            return None

    def load(self, version: str) -> LoadedModel:
        """Load a version's booster; raises RegistryError when it cannot serve this code's features."""
        import mlflow.lightgbm

        with _tracking(self.tracking_uri):
            booster = mlflow.lightgbm.load_model(f"models:/{self.model_name}/{version}")
        try:
            return LoadedModel(version=version, scorer=LightGBMScorer(booster, version=version))
        except ValueError as error:
            raise RegistryError(f"version {version}: {error}") from error

    def load_alias(self, alias: str) -> LoadedModel | None:
        version = self.alias_version(alias)
        return None if version is None else self.load(version)

    def evaluation(self, version: str) -> dict[str, Any]:
        """The evaluation evidence logged with a version (the promotion gate reads it)."""
        import mlflow.artifacts

        run_id = self.version(version).run_id
        with _tracking(self.tracking_uri):
            loaded = mlflow.artifacts.load_dict(f"runs:/{run_id}/{EVALUATION_FILE}")
        return dict(loaded)

    def signature_columns(self, version: str) -> list[str]:
        """The input columns the registered model's signature declares (contract with FEATURE_NAMES)."""
        from mlflow.models import get_model_info

        with _tracking(self.tracking_uri):
            info = get_model_info(f"models:/{self.model_name}/{version}")
        if info.signature is None:
            raise RegistryError(f"version {version} was logged without a signature")
        return list(info.signature.inputs.input_names())

    def model_card(self, version: str) -> str:
        import mlflow.artifacts

        run_id = self.version(version).run_id
        with _tracking(self.tracking_uri):
            return str(mlflow.artifacts.load_text(f"runs:/{run_id}/{MODEL_CARD_FILE}"))

    def export_champion_card(self, path: Path) -> Path | None:
        """Write the champion's model card to `path` (headed by its version); None when there is no champion."""
        version = self.alias_version(CHAMPION)
        if version is None:
            path.unlink(missing_ok=True)
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        header = f"<!-- written by the promotion step: champion is version {version} of {self.model_name} -->\n"
        path.write_text(header + f"Champion: **version {version}** (`models:/{self.model_name}@champion`)\n\n"
                        + self.model_card(version), encoding="utf-8")  # fmt: skip
        return path

    def record_decision(self, version: str, *, promoted: bool, reasons: str) -> None:
        self.client.set_model_version_tag(self.model_name, version, "promotion", "promoted" if promoted else "kept")
        self.client.set_model_version_tag(self.model_name, version, "promotion_reasons", reasons[:4900])

    def promote(self, version: str) -> str | None:
        """Point `champion` at `version`; returns the previous champion (kept in a tag for rollback)."""
        previous = self.alias_version(CHAMPION)
        if previous == version:
            return previous
        if previous is not None:
            self.client.set_model_version_tag(self.model_name, version, "previous_champion", previous)
        self.client.set_model_version_tag(self.model_name, version, "promoted_at", _now())
        self.client.set_registered_model_alias(self.model_name, CHAMPION, version)
        return previous

    def rollback(self) -> tuple[str, str]:
        """Move `champion` back to the version it replaced; returns (from, to)."""
        current = self.alias_version(CHAMPION)
        if current is None:
            raise RegistryError(f"{self.model_name} has no champion to roll back")
        previous = self.version(current).tags.get("previous_champion")
        if not previous:
            raise RegistryError(f"version {current} is the first champion: there is no earlier one to roll back to")
        self.client.set_model_version_tag(self.model_name, current, "rolled_back_at", _now())
        self.client.set_registered_model_alias(self.model_name, CHAMPION, previous)
        return current, previous

    def versions(self) -> list[VersionInfo]:
        found = self.client.search_model_versions(f"name = '{self.model_name}'")
        # Search results leave aliases out: read each version itself.
        return sorted((self.version(str(v.version)) for v in found), key=lambda info: int(info.version))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")

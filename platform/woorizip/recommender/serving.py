"""What the api serves questions with: the registry's champion, swapped without a restart.

`ChampionHolder` keeps the current policy in one attribute: a refresh loads the new champion
completely before replacing the reference, so a request always sees either the old model or the
new one, never half of each. With no loadable model it serves the affinity heuristic and says so.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from recsys.policy import Policy
from recsys.registry import CHAMPION, ModelRegistry
from recsys.serving import serving_policy
from woorizip.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServingModel:
    policy: Policy
    version: str | None  # None: the heuristic
    loaded_at: datetime
    problem: str | None = None  # why no model is served, when none is

    @property
    def source(self) -> str:
        return "registry" if self.version is not None else "heuristic"


def registry_for(settings: Settings) -> ModelRegistry:
    return ModelRegistry(
        tracking_uri=settings.resolved_mlflow_tracking_uri, artifact_location=settings.mlflow_artifacts_dir
    )


class ChampionHolder:
    """The champion policy of this process, refreshed from the registry's alias."""

    def __init__(self, *, registry: ModelRegistry, epsilon: float) -> None:
        self.registry = registry
        self.epsilon = epsilon
        self._lock = threading.Lock()  # one refresh at a time; reads never wait for it
        self.current = ServingModel(serving_policy(None, epsilon=epsilon), None, datetime.now(UTC), "not loaded yet")

    def refresh(self) -> bool:
        """Load the champion when its alias moved; returns whether the served model changed."""
        with self._lock:
            try:
                version = self.registry.alias_version(CHAMPION) if self.registry.exists() else None
                if version == self.current.version and version is not None:
                    return False
                if version is None:
                    if self.current.version is None and self.current.problem == "no champion registered":
                        return False
                    self.current = ServingModel(
                        serving_policy(None, epsilon=self.epsilon), None, datetime.now(UTC), "no champion registered"
                    )
                    return True
                loaded = self.registry.load(version)
            except Exception as error:  # a broken registry must never take serving down
                logger.warning("champion refresh failed, keeping the current model: %s", error)
                if self.current.version is None:
                    self.current = ServingModel(self.current.policy, None, self.current.loaded_at, str(error)[:200])
                return False
            self.current = ServingModel(serving_policy(loaded.scorer, epsilon=self.epsilon), version, datetime.now(UTC))
            logger.info("serving champion version %s", version)
            return True

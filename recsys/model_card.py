"""A Markdown model card: what a registered ranker is, what it was trained on, and how it did."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from recsys.evaluation.gate import ModelMetrics
from recsys.features.build import FEATURE_NAMES


def render_model_card(
    *,
    model_name: str,
    params: Mapping[str, Any],
    snapshot: Mapping[str, Any],
    split: Mapping[str, str],
    challenger: ModelMetrics,
    champion: ModelMetrics | None,
    champion_version: str | None,
    baselines: Mapping[str, ModelMetrics],
    importance: pd.Series,
    trees: int,
    training_rows: int,
) -> str:
    """The card logged with each version and copied next to the registry when it becomes champion."""
    compared = {"this model": challenger, **baselines}
    if champion is not None:
        compared[f"champion v{champion_version}"] = champion
    rows = [
        f"| {name} | {m.ndcg_at_10:.4f} [{m.ndcg_low:.4f}, {m.ndcg_high:.4f}] | {m.map_at_10:.4f} | "
        f"{m.recall_at_10:.4f} | {m.coverage:.3f} | {m.novelty:.2f} | "
        f"{'' if m.snips_completion is None else f'{m.snips_completion:.3f}'} |"
        for name, m in compared.items()
    ]
    segments = [f"| {name} | {value:.4f} | {challenger.segment_families.get(name, 0)} |"
                for name, value in challenger.segment_ndcg.items()]  # fmt: skip
    top = importance.head(10)
    return "\n".join(
        [
            f"# Model card: {model_name}",
            "",
            "**What it does.** Scores every eligible question for a family on a day; the serving policy serves",
            "the best (with 5% logged exploration among the top 20) and offers the next best for \"replace\".",
            "",
            "**Intended use.** The daily question of 우리집 families. Not for judging families or members.",
            "",
            "## Training data",
            f"- snapshot `{snapshot.get('name', '')}`, content hash `{snapshot.get('content_hash', '')}`",
            f"- {snapshot.get('events', '?')} events, {snapshot.get('families', '?')} families, "
            f"{snapshot.get('first_day', '?')} .. {snapshot.get('last_day', '?')}",
            f"- temporal split: train from {split.get('start')}, validation from {split.get('validation')}, "
            f"test {split.get('test')} .. {split.get('end')}",
            f"- {training_rows} served questions in the training window; {trees} trees after early stopping",
            "",
            "## Parameters",
            *[f"- `{key}`: {value}" for key, value in params.items()],
            "",
            "## Test-window results (95% bootstrap interval for NDCG)",
            "| policy | NDCG@10 | MAP@10 | recall@10 | coverage | novelty | SNIPS completion |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "## NDCG@10 by family segment",
            "| segment | NDCG@10 | families |",
            "|---|---|---|",
            *segments,
            "",
            "## Most important features (total gain)",
            *[f"- `{name}`: {gain:.0f}" for name, gain in top.items()],
            "",
            f"## Inputs\n{len(FEATURE_NAMES)} point-in-time features (`recsys.features.build.FEATURE_NAMES`),"
            " float32, in this order; the registered signature lists them.",
            "",
            "## Limits",
            "- Offline metrics come from logged decisions of an exploring policy; the simulated A/B",
            "  (`woorizip evaluate`) is the better guide to online effect.",
            "- A family new to the service is ranked from its onboarding interests and global signals only.",
            "",
        ]
    )

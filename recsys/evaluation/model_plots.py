"""Plots logged with every trained model: importance, policy comparison, calibration (Figure objects)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from recsys.evaluation.gate import ModelMetrics


def importance_figure(importance: pd.Series, *, top: int = 15) -> Figure:
    figure = Figure(figsize=(6, 4))
    axis = figure.subplots()
    importance.head(top)[::-1].plot.barh(ax=axis, color="#7a6ab5")
    axis.set_xlabel("total gain")
    axis.set_title("Feature importance")
    figure.tight_layout()
    return figure


def comparison_figure(metrics: Mapping[str, ModelMetrics]) -> Figure:
    """NDCG@10 with its 95% interval for each policy evaluated on the same test window."""
    figure = Figure(figsize=(6, 3.5))
    axis = figure.subplots()
    names = list(metrics)
    values = np.array([metrics[name].ndcg_at_10 for name in names])
    errors = np.array(
        [values - [metrics[n].ndcg_low for n in names], [metrics[n].ndcg_high for n in names] - values]
    ).clip(min=0)
    axis.bar(names, values, yerr=errors, capsize=4, color="#b5846a")
    axis.set_ylabel("NDCG@10 (test window)")
    axis.set_title("Same snapshot, same test window")
    figure.tight_layout()
    return figure


def calibration_figure(predicted: np.ndarray, observed: np.ndarray, *, bins: int = 10) -> Figure:
    """Mean predicted completion against the observed rate, per decile of prediction."""
    figure = Figure(figsize=(4.5, 4.5))
    axis = figure.subplots()
    frame = pd.DataFrame({"predicted": predicted, "observed": observed.astype(float)})
    if len(frame) >= bins:
        frame["bin"] = pd.qcut(frame["predicted"], bins, labels=False, duplicates="drop")
        table = frame.groupby("bin")[["predicted", "observed"]].mean()
        axis.plot(table["predicted"], table["observed"], marker="o", color="#6a9fb5")
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey")
    axis.set_xlabel("predicted completion")
    axis.set_ylabel("observed completion")
    axis.set_title("Calibration (test window)")
    figure.tight_layout()
    return figure

"""`woorizip simulate` then `woorizip evaluate`, as a data scientist runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.woorizip.test_cli import run


@pytest.mark.slow
def test_simulate_then_evaluate_prints_and_writes_the_report(data_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "sim"
    simulated = run(
        "simulate", "--families", "120", "--days", "28", "--seed", "5", "--out", str(data), data_dir=data_dir
    )
    assert simulated.returncode == 0, simulated.stderr
    assert "wrote" in simulated.stdout
    assert json.loads((data / "manifest.json").read_text())["simulation"]["seed"] == 5

    evaluated = run(
        "evaluate", "--data", str(data), "--ab-families", "60", "--ab-days", "5", "--ab-seeds", "2", "--json",
        data_dir=data_dir,
    )  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr
    report = json.loads(evaluated.stdout)
    assert set(report["offline"]) == {"random", "popularity", "affinity", "lightgbm"}
    assert set(report["ab"]["completion"]) == {"random", "popularity", "affinity", "lightgbm", "oracle"}
    assert report["ab"]["retrains"] == 5
    # Two A/B seeds: the first is the main report's, the second other families with their own result.
    first, second = report["ab_seeds"]
    assert (first["seed"], second["seed"]) == (1, 3)
    assert first["gap_closed"] == report["ab"]["gap_closed"]
    assert second["completion"]["lightgbm"] != first["completion"]["lightgbm"]
    gaps = [first["gap_closed"]["lightgbm"], second["gap_closed"]["lightgbm"]]
    assert report["ab_mean_gap_closed"] == pytest.approx(sum(gaps) / 2)
    assert any("on average over 2 seeds" in name for name in report["targets"])
    for name in ("report.md", "report.json", "ab_completion.png", "offline_ndcg.png", "feature_importance.png"):
        assert (data / "report" / name).stat().st_size > 0

    text = run("evaluate", "--data", str(data), "--ab-families", "0", data_dir=data_dir)
    assert text.returncode == 0, text.stderr
    assert "ndcg@10" in text.stdout and "Targets:" in text.stdout


def test_evaluate_names_the_bad_row(data_dir: Path, tmp_path: Path) -> None:
    import pandas as pd

    data = tmp_path / "sim"
    assert run("simulate", "--families", "20", "--days", "7", "--out", str(data), data_dir=data_dir).returncode == 0
    events = pd.read_parquet(data / "events.parquet")
    events.loc[3, "type"] = "teleported"
    events.to_parquet(data / "events.parquet", index=False)
    result = run("evaluate", "--data", str(data), data_dir=data_dir)
    assert result.returncode == 2
    assert "events.parquet row 3, field 'type': unknown event type" in result.stderr
    missing = run("evaluate", "--data", str(tmp_path / "nothing"), data_dir=data_dir)
    assert missing.returncode == 2
    assert "not a dataset folder" in missing.stderr

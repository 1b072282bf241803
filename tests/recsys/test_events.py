"""The dataset folder format: round trip, and clear errors naming file, row and field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recsys.events import DatasetError, read_dataset, write_dataset
from recsys.simulate.history import SimulatedHistory


@pytest.fixture
def folder(small_history: SimulatedHistory, tmp_path: Path) -> Path:
    write_dataset(small_history.dataset, tmp_path / "data", extra={"note": "test"})
    return tmp_path / "data"


def test_round_trip(small_history: SimulatedHistory, folder: Path) -> None:
    again = read_dataset(folder)
    original = small_history.dataset
    assert len(again.events) == len(original.events)
    assert again.events["event_id"].tolist() == original.events["event_id"].astype(str).tolist()
    assert (again.events["day"] == original.events["day"]).all()
    assert again.bank.ids.tolist() == original.bank.ids.tolist()
    assert again.families["interests"].map(list).tolist() == original.families["interests"].map(list).tolist()


def _corrupt(folder: Path, file: str, row: int, field: str, value: object) -> None:
    frame = pd.read_parquet(folder / file)
    # Strings throughout, as a hand-made CSV-to-Parquet export would have them.
    frame[field] = frame[field].astype(str).astype(object)
    frame.loc[row, field] = value
    frame.to_parquet(folder / file, index=False)


@pytest.mark.parametrize(
    ("file", "field", "value", "message"),
    [
        ("events.parquet", "type", "shouted", "events.parquet row 5, field 'type': unknown event type"),
        ("events.parquet", "question_id", "nope-001", "events.parquet row 5, field 'question_id': unknown question"),
        ("events.parquet", "family_id", "ghost", "events.parquet row 5, field 'family_id': unknown family"),
        ("events.parquet", "ts", "not a time", "events.parquet row 5, field 'ts': expected datetime64"),
        ("members.parquet", "role", "boss", "members.parquet row 5, field 'role': unknown role"),
    ],
)
def test_bad_values_are_named(folder: Path, file: str, field: str, value: object, message: str) -> None:
    _corrupt(folder, file, 5, field, value)
    with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
        read_dataset(folder)


def test_served_propensity_must_be_a_probability(folder: Path) -> None:
    events = pd.read_parquet(folder / "events.parquet")
    row = int(events.index[events["type"] == "served"][3])
    events.loc[row, "propensity"] = 1.7
    events.to_parquet(folder / "events.parquet", index=False)
    with pytest.raises(DatasetError, match=rf"events.parquet row {row}, field 'propensity': must be in \(0, 1\]"):
        read_dataset(folder)


def test_missing_and_unknown_columns_and_corrupt_files(folder: Path) -> None:
    events = pd.read_parquet(folder / "events.parquet")
    events.drop(columns=["rating"]).to_parquet(folder / "events.parquet", index=False)
    with pytest.raises(DatasetError, match=r"events\.parquet: missing column\(s\) rating"):
        read_dataset(folder)
    events.assign(mood="happy").to_parquet(folder / "events.parquet", index=False)
    with pytest.raises(DatasetError, match="unknown column\\(s\\) mood"):
        read_dataset(folder)
    (folder / "events.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DatasetError, match=r"events\.parquet: not a readable Parquet file"):
        read_dataset(folder)
    (folder / "families.parquet").unlink()
    with pytest.raises(DatasetError, match=r"families\.parquet: missing"):
        read_dataset(folder)

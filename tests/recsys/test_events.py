"""The dataset folder format: round trip, and clear errors naming file, row and field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from recsys.events import (
    EVENT_COLUMNS,
    FAMILY_COLUMNS,
    MEMBER_COLUMNS,
    Dataset,
    DatasetError,
    DatasetWriter,
    dataset_hash,
    read_dataset,
    read_manifest,
    write_dataset,
    write_part,
)
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


def _slices(dataset: Dataset, count: int) -> list[Dataset]:
    """The dataset's rows in `count` consecutive slices of each table (a slice may be empty)."""

    def cut(frame: pd.DataFrame, i: int) -> pd.DataFrame:
        return frame.iloc[len(frame) * i // count : len(frame) * (i + 1) // count]

    return [
        Dataset(cut(dataset.events, i), cut(dataset.families, i), cut(dataset.members, i), dataset.bank)
        for i in range(count)
    ]


@pytest.mark.parametrize("how", ["appended", "merged from parts"])
def test_the_writer_round_trips_a_dataset_written_a_chunk_at_a_time(
    small_history: SimulatedHistory, tmp_path: Path, how: str
) -> None:
    original = small_history.dataset
    families = original.families.copy()
    # The first chunk's lists are all empty: the file's types must not come from one chunk's values.
    families["blocked_categories"] = [[] if i < 40 else list(v) for i, v in enumerate(families["blocked_categories"])]
    original = Dataset(original.events, families, original.members, original.bank)
    folder = tmp_path / "chunked"
    with DatasetWriter(folder) as writer:
        for number, chunk in enumerate(_slices(original, 4)):
            if how == "appended":
                writer.append(events=chunk.events, families=chunk.families, members=chunk.members)
            else:
                write_part(chunk, tmp_path / "parts" / str(number))
                writer.append_part(tmp_path / "parts" / str(number))
        manifest = writer.close(original.bank, extra={"note": "test"})

    again = read_dataset(folder)
    pd.testing.assert_frame_equal(again.events, original.events.reset_index(drop=True))
    pd.testing.assert_frame_equal(again.families, original.families.reset_index(drop=True))
    pd.testing.assert_frame_equal(again.members, original.members.reset_index(drop=True))
    assert again.bank.to_frame().equals(original.bank.to_frame())
    assert manifest == read_manifest(folder)
    assert manifest["content_hash"] == dataset_hash(original) == dataset_hash(again)
    assert manifest["content_hash"] == write_dataset(original, tmp_path / "whole")["content_hash"]
    assert (manifest["events"], manifest["families"], manifest["note"]) == (len(original.events), 150, "test")
    assert (manifest["first_day"], manifest["last_day"]) == (str(original.first_day), str(original.last_day))
    # Pandas alone reads the documented types too.
    for name, columns in (("events", EVENT_COLUMNS), ("families", FAMILY_COLUMNS), ("members", MEMBER_COLUMNS)):
        dtypes = pd.read_parquet(folder / f"{name}.parquet").dtypes
        assert {c: str(dtypes[c]) for c, t in columns.items() if t not in ("date", "object")} == {
            c: t for c, t in columns.items() if t not in ("date", "object")
        }


def test_the_content_hash_follows_content_and_row_order(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    events = dataset.events
    changed = events.copy()
    changed.loc[changed.index[7], "answer_length"] = 1234
    swapped = pd.concat([events.iloc[1:2], events.iloc[:1], events.iloc[2:]])
    digests = {
        dataset_hash(Dataset(frame, dataset.families, dataset.members, dataset.bank))
        for frame in (events, changed, swapped, events.iloc[:-1])
    }
    assert len(digests) == 4
    copied = Dataset(events.copy(), dataset.families.copy(), dataset.members.copy(), dataset.bank)
    assert dataset_hash(copied) == dataset_hash(dataset)


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

"""The event log and dataset folder format shared by the simulator, training and evaluation.

A dataset folder holds four Parquet files (documented in docs/events.md):
`events.parquet`, `families.parquet`, `members.parquet`, `questions.parquet`, plus
`manifest.json`. Production exports and simulated histories use the same format, so data
scientists can train and evaluate on either. `DatasetWriter` writes a folder a chunk of rows at a
time (the live export writes one part per chunk of families and merges them), so writing never
holds the whole dataset; events keep the order they were written in (by time in a simulated
history, family by family in a live snapshot), and whatever needs time order sorts (replay does).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from recsys.catalog.bank import QuestionBank
from recsys.catalog.schema import Category

FORMAT_VERSION = 1


class EventType(StrEnum):
    SERVED = "served"  # a question was assigned to a family for a day
    OPENED = "opened"  # a member opened the day's question
    ANSWERED = "answered"  # a member answered it
    REPLACED = "replaced"  # the family asked for another question
    REACTED = "reacted"  # a member reacted to another member's answer
    RATED = "rated"  # a member rated the question itself (+1 / -1)
    COMPLETED = "completed"  # every member answered


class Role(StrEnum):
    OWNER = "owner"
    GUARDIAN = "guardian"
    MEMBER = "member"
    CHILD = "child"


EVENT_COLUMNS: dict[str, str] = {
    "event_id": "string",
    "ts": "datetime64[us, UTC]",
    "day": "date",  # the family-local day of the assignment the event belongs to
    "family_id": "string",
    "member_id": "string",  # null for family-level events (served, replaced, completed)
    "type": "string",
    "question_id": "string",
    "policy": "string",  # served: which policy chose it
    "model_version": "string",  # served: the model version, when a model chose it
    "propensity": "float64",  # served: probability the policy gave this question
    "candidate_count": "Int64",  # served: how many questions were eligible
    "answer_length": "Int64",  # answered: characters
    "latency_seconds": "float64",  # answered: seconds from served to answered
    "rating": "Int64",  # rated: +1 or -1
}
FAMILY_COLUMNS: dict[str, str] = {
    "family_id": "string",
    "created_at": "datetime64[us, UTC]",
    "timezone": "string",
    "interests": "object",  # list of category slugs chosen at onboarding
    "blocked_categories": "object",  # list of category slugs never to ask
}
MEMBER_COLUMNS: dict[str, str] = {
    "member_id": "string",
    "family_id": "string",
    "role": "string",
    "birth_year": "Int64",
    "birth_month": "Int64",
    "birth_day": "Int64",
    "lunar_birthday": "bool",
}

TABLES = ("events", "families", "members")
TABLE_COLUMNS = {"events": EVENT_COLUMNS, "families": FAMILY_COLUMNS, "members": MEMBER_COLUMNS}
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "datetime64[us, UTC]": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "float64": pa.float64(),
    "Int64": pa.int64(),
    "bool": pa.bool_(),
    "object": pa.list_(pa.string()),  # the only object columns hold lists of category slugs
}
ROW_GROUP_ROWS = 100_000  # writing or merging holds one row group at a time, whatever the dataset's size
ROW_HASH = "__row_hash"  # a column of parts only (`write_part`)


def _schema(columns: dict[str, str]) -> pa.Schema:
    """The file schema of a table, fixed by its documented dtypes (a chunk's values never change it).

    The pandas metadata makes a plain `pd.read_parquet` give the documented dtypes too.
    """
    fields = pa.schema([pa.field(name, ARROW_TYPES[dtype]) for name, dtype in columns.items()])
    empty = pd.DataFrame({name: pd.Series([], dtype=_empty_dtype(dtype)) for name, dtype in columns.items()})
    return fields.with_metadata(pa.Table.from_pandas(empty, schema=fields, preserve_index=False).schema.metadata)


def _empty_dtype(dtype: str) -> str:
    return "object" if dtype in ("date", "object") else dtype


SCHEMAS = {name: _schema(columns) for name, columns in TABLE_COLUMNS.items()}


class DatasetError(ValueError):
    """A dataset file does not match the documented format; the message names file, row and field."""


@dataclass(frozen=True)
class Dataset:
    """Events, family snapshots and the question bank: everything training and evaluation read."""

    events: pd.DataFrame
    families: pd.DataFrame
    members: pd.DataFrame
    bank: QuestionBank

    @property
    def first_day(self) -> date:
        return min(self.events["day"]) if len(self.events) else date.today()

    @property
    def last_day(self) -> date:
        return max(self.events["day"]) if len(self.events) else date.today()


def dataset_hash(dataset: Dataset) -> str:
    """A SHA-256 of the dataset's content (not of file bytes, which vary with the Parquet writer).

    The same digest `DatasetWriter` computes while writing the dataset a chunk at a time.
    """
    hasher = ContentHasher()
    for name, frame in _tables(dataset).items():
        hasher.add(name, frame)
    hasher.add("questions", dataset.bank.to_frame())
    return hasher.hexdigest()


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of a typed frame; a row's hash depends on that row alone."""
    if len(frame) == 0:
        return np.empty(0, dtype=np.uint64)
    # Lists (interests, tags) are not hashable by pandas: hash their JSON text instead.
    canonical = frame.reset_index(drop=True).apply(
        lambda column: column.map(_canonical) if column.dtype == object else column
    )
    return pd.util.hash_pandas_object(canonical, index=False).to_numpy(dtype=np.uint64)


def _canonical(value: Any) -> Any:
    if isinstance(value, list | tuple | dict | np.ndarray):
        return json.dumps(value.tolist() if isinstance(value, np.ndarray) else value, sort_keys=True, default=str)
    return value


class ContentHasher:
    """The content hash fed a chunk of rows at a time, in file order.

    Each table's digest covers its row hashes in order, so how the rows were chunked (one frame, or
    parts written by separate processes) does not change the result; the order of the rows does.
    """

    def __init__(self) -> None:
        self._tables = {name: hashlib.sha256() for name in (*TABLES, "questions")}
        self._rows = dict.fromkeys(self._tables, 0)

    def add(self, name: str, frame: pd.DataFrame) -> None:
        self.add_row_hashes(name, row_hashes(frame))

    def add_row_hashes(self, name: str, hashes: np.ndarray) -> None:
        self._tables[name].update(np.ascontiguousarray(hashes, dtype="<u8").tobytes())
        self._rows[name] += len(hashes)

    def hexdigest(self) -> str:
        digest = hashlib.sha256(f"format {FORMAT_VERSION};".encode())
        for name, table in self._tables.items():
            digest.update(f"{name}:{self._rows[name]}:{table.hexdigest()};".encode())
        return digest.hexdigest()


def _tables(dataset: Dataset) -> dict[str, pd.DataFrame]:
    return {"events": dataset.events, "families": dataset.families, "members": dataset.members}


def write_dataset(dataset: Dataset, folder: Path, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the dataset folder (Parquet files and a manifest with `extra` entries); returns the manifest."""
    with DatasetWriter(folder) as writer:
        writer.append(events=dataset.events, families=dataset.families, members=dataset.members)
        return writer.close(dataset.bank, extra=extra)


class DatasetWriter:
    """Writes a dataset folder a chunk of rows at a time, so memory holds one chunk, never the dataset.

    Frames are appended as typed by `dataset_from_frames` (or parts written by `write_part`, merged in
    the order appended); `close` adds the question bank and the manifest, whose `content_hash` is what
    `dataset_hash` gives for the folder read back.
    """

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.rows = dict.fromkeys(TABLES, 0)
        self._writers = {name: pq.ParquetWriter(folder / f"{name}.parquet", SCHEMAS[name]) for name in TABLES}
        self._hasher = ContentHasher()
        self._days: tuple[date, date] | None = None  # the first and last day of the events so far

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_files()

    def append(self, *, events: pd.DataFrame, families: pd.DataFrame, members: pd.DataFrame) -> None:
        """The next rows of each file."""
        for name, frame in (("events", events), ("families", families), ("members", members)):
            self._hasher.add(name, frame)
            self._write(name, _arrow(frame, name))

    def append_part(self, part: Path) -> None:
        """The rows of a part written by `write_part`, a row group at a time, with the row hashes it carries."""
        for name in TABLES:
            source = pq.ParquetFile(part / f"{name}.parquet")
            for group in range(source.num_row_groups):
                table = source.read_row_group(group)
                self._hasher.add_row_hashes(name, table.column(ROW_HASH).to_numpy())
                self._write(name, table.drop_columns([ROW_HASH]))
            source.close()

    def close(self, bank: QuestionBank, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Finish the files, write questions.parquet and manifest.json; returns the manifest."""
        self._close_files()
        questions = bank.to_frame()
        questions.to_parquet(self.folder / "questions.parquet", index=False)
        self._hasher.add("questions", questions)
        first, last = self._days or (date.today(), date.today())
        manifest = {
            "format_version": FORMAT_VERSION,
            **self.rows,
            "questions": len(bank),
            "first_day": str(first),
            "last_day": str(last),
            "content_hash": self._hasher.hexdigest(),
            **(extra or {}),
        }
        (self.folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
        return manifest

    def _write(self, name: str, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._writers[name].write_table(table, row_group_size=ROW_GROUP_ROWS)
        self.rows[name] += table.num_rows
        if name == "events":
            low, high = (value.as_py() for value in pc.min_max(table.column("day")).values())
            self._days = (low, high) if self._days is None else (min(self._days[0], low), max(self._days[1], high))

    def _close_files(self) -> None:
        for writer in self._writers.values():
            if writer.is_open:
                writer.close()


def write_part(dataset: Dataset, folder: Path) -> None:
    """One chunk of a dataset (events, families, members) with each row's hash, for `DatasetWriter.append_part`.

    Separate processes can each write a part; merging them streams row groups and never re-reads a value.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in _tables(dataset).items():
        table = _arrow(frame, name).append_column(ROW_HASH, pa.array(row_hashes(frame), pa.uint64()))
        pq.write_table(table, folder / f"{name}.parquet", row_group_size=ROW_GROUP_ROWS)


def _arrow(frame: pd.DataFrame, name: str) -> pa.Table:
    return pa.Table.from_pandas(frame, schema=SCHEMAS[name], preserve_index=False)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The dataset's manifest (empty when the folder has none, as a hand-made export may not)."""
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DatasetError(f"manifest.json: not valid JSON ({error})") from error
    if not isinstance(manifest, dict):
        raise DatasetError("manifest.json: expected a JSON object")
    return manifest


def read_dataset(folder: Path) -> Dataset:
    """Read and validate a dataset folder; any format problem raises DatasetError naming row and field."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: not a dataset folder")
    for name in ("events.parquet", "families.parquet", "members.parquet", "questions.parquet"):
        if not (folder / name).is_file():
            raise DatasetError(
                f"{folder / name}: missing (a dataset folder needs events, families, members, questions)"
            )
    frames = {name: _read_parquet(folder / f"{name}.parquet") for name in ("events", "families", "members")}
    try:
        bank = QuestionBank.from_frame(pd.read_parquet(folder / "questions.parquet"))
    except ValueError as error:
        raise DatasetError(f"questions.parquet: {error}") from error
    return dataset_from_frames(**frames, bank=bank, suffix=".parquet")


def dataset_from_frames(
    *, events: pd.DataFrame, families: pd.DataFrame, members: pd.DataFrame, bank: QuestionBank, suffix: str = ""
) -> Dataset:
    """Convert and validate raw frames (from Parquet or a live store); errors name `<name><suffix>` row and field."""
    events = _typed(events, EVENT_COLUMNS, f"events{suffix}")
    families = _typed(families, FAMILY_COLUMNS, f"families{suffix}")
    members = _typed(members, MEMBER_COLUMNS, f"members{suffix}")
    validate_events(events, bank=bank, families=families, file=f"events{suffix}")
    _validate_families(families, members, suffix=suffix)
    return Dataset(events=events, families=families, members=members, bank=bank)


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several types for a corrupt file
        raise DatasetError(f"{path.name}: not a readable Parquet file ({type(error).__name__}: {error})") from error


def _typed(frame: pd.DataFrame, columns: dict[str, str], label: str) -> pd.DataFrame:
    missing = [name for name in columns if name not in frame.columns]
    if missing:
        raise DatasetError(f"{label}: missing column(s) {', '.join(missing)}")
    extra = [name for name in frame.columns if name not in columns]
    if extra:
        raise DatasetError(f"{label}: unknown column(s) {', '.join(extra)}")
    converted = {}
    for name, dtype in columns.items():
        try:
            converted[name] = _convert(frame[name].reset_index(drop=True), dtype)
        except (ValueError, TypeError) as error:
            row = _first_bad_row(frame[name], dtype)
            raise DatasetError(f"{label} row {row}, field {name!r}: expected {dtype} ({error})") from error
    return pd.DataFrame(converted)


def _convert(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == "date":
        return pd.to_datetime(series, errors="raise").dt.date
    if dtype.startswith("datetime64"):
        return pd.to_datetime(series, utc=True, errors="raise").astype(dtype)
    if dtype == "object":
        return series
    return series.astype(dtype)


def _first_bad_row(series: pd.Series, dtype: str) -> int:
    for row, value in enumerate(series):
        try:
            _convert(pd.Series([value]), dtype)
        except (ValueError, TypeError):
            return row
    return -1


def _fail(file: str, row: int, field: str, message: str) -> None:
    raise DatasetError(f"{file} row {row}, field {field!r}: {message}")


def validate_events(
    events: pd.DataFrame, *, bank: QuestionBank, families: pd.DataFrame, file: str = "events.parquet"
) -> None:
    """Check values the types alone cannot: known types, questions, families and sane numbers."""
    checks: list[tuple[str, pd.Series, str]] = [
        ("type", ~events["type"].isin([t.value for t in EventType]), "unknown event type"),
        ("question_id", ~events["question_id"].isin(set(bank.ids.tolist())), "unknown question id"),
        ("family_id", ~events["family_id"].isin(set(families["family_id"])), "unknown family id"),
        ("event_id", events["event_id"].isna(), "missing"),
        ("ts", events["ts"].isna(), "missing"),
    ]
    served = events["type"] == EventType.SERVED
    propensity = events["propensity"]
    checks.append(
        ("propensity", served & ~((propensity > 0) & (propensity <= 1)).fillna(False), "must be in (0, 1] when served")
    )
    rated = events["type"] == EventType.RATED
    checks.append(("rating", rated & ~events["rating"].isin([1, -1]).fillna(False), "must be +1 or -1 when rated"))
    answered = events["type"] == EventType.ANSWERED
    checks.append(("answer_length", answered & (events["answer_length"].fillna(-1) < 0), "must be >= 0 when answered"))
    per_member = events["type"].isin([EventType.ANSWERED, EventType.OPENED, EventType.RATED, EventType.REACTED])
    checks.append(("member_id", per_member & events["member_id"].isna(), "required for member events"))
    for field, bad, message in checks:
        bad_rows = np.flatnonzero(np.asarray(bad, dtype=bool))
        if len(bad_rows):
            row = int(bad_rows[0])
            _fail(file, row, field, f"{message} (got {events[field].iloc[row]!r})")
    if events["event_id"].duplicated().any():
        row = int(np.flatnonzero(events["event_id"].duplicated().to_numpy())[0])
        _fail(file, row, "event_id", f"duplicate event id {events['event_id'].iloc[row]!r}")


def _validate_families(families: pd.DataFrame, members: pd.DataFrame, *, suffix: str) -> None:
    slugs = {category.value for category in Category}
    for row, (interests, blocked) in enumerate(zip(families["interests"], families["blocked_categories"], strict=True)):
        for field, values in (("interests", interests), ("blocked_categories", blocked)):
            unknown = [value for value in list(values) if value not in slugs]
            if unknown:
                _fail(f"families{suffix}", row, field, f"unknown category {unknown[0]!r}")
    orphans = ~members["family_id"].isin(set(families["family_id"]))
    if orphans.any():
        row = int(np.flatnonzero(orphans.to_numpy())[0])
        _fail(f"members{suffix}", row, "family_id", f"unknown family id {members['family_id'].iloc[row]!r}")
    roles = ~members["role"].isin([role.value for role in Role])
    if roles.any():
        row = int(np.flatnonzero(roles.to_numpy())[0])
        _fail(f"members{suffix}", row, "role", f"unknown role {members['role'].iloc[row]!r}")

"""The question bank: an immutable, ordered set of questions with numpy columns, loaded from JSONL or Parquet."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from pydantic import ValidationError

from recsys.catalog.schema import Category, Occasion, Question

if TYPE_CHECKING:
    import pandas as pd

CATEGORIES: list[Category] = list(Category)
OCCASIONS: list[Occasion] = list(Occasion)

NO_MAX_AGE = 200  # stands for "no upper age" in `max_age`, so age filters stay plain comparisons
NO_OCCASION = -1

FRAME_COLUMNS = ["id", "text", "category", "difficulty", "min_age", "max_age", "tags", "occasion", "wordings"]

_CATEGORY_POSITION = {category: i for i, category in enumerate(CATEGORIES)}
_OCCASION_POSITION = {occasion: i for i, occasion in enumerate(OCCASIONS)}


class BankError(ValueError):
    """Question data that cannot be loaded; the message names the file, the line or row, and the field."""


def _read_only(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.setflags(write=False)
    return array


class QuestionBank:
    """An immutable collection of questions in a fixed order, with per-question numpy columns."""

    def __init__(self, questions: Iterable[Question]) -> None:
        self._questions: tuple[Question, ...] = tuple(questions)
        self._positions: dict[str, int] = {}
        for i, question in enumerate(self._questions):
            if question.id in self._positions:
                raise BankError(f"duplicate id {question.id!r} at positions {self._positions[question.id]} and {i}")
            self._positions[question.id] = i
        qs = self._questions
        self.ids: npt.NDArray[np.object_] = _read_only(np.array([q.id for q in qs], dtype=object))
        self.category_index: npt.NDArray[np.int64] = _read_only(
            np.array([_CATEGORY_POSITION[q.category] for q in qs], dtype=np.int64)
        )
        self.difficulty: npt.NDArray[np.int64] = _read_only(np.array([q.difficulty for q in qs], dtype=np.int64))
        self.min_age: npt.NDArray[np.int64] = _read_only(np.array([q.min_age for q in qs], dtype=np.int64))
        self.max_age: npt.NDArray[np.int64] = _read_only(
            np.array([NO_MAX_AGE if q.max_age is None else q.max_age for q in qs], dtype=np.int64)
        )
        self.occasion_index: npt.NDArray[np.int64] = _read_only(
            np.array(
                [NO_OCCASION if q.occasion is None else _OCCASION_POSITION[q.occasion] for q in qs], dtype=np.int64
            )
        )

    @property
    def questions(self) -> tuple[Question, ...]:
        """The questions in bank order."""
        return self._questions

    def __len__(self) -> int:
        return len(self._questions)

    def __iter__(self) -> Iterator[Question]:
        return iter(self._questions)

    def __getitem__(self, position: int) -> Question:
        return self._questions[position]

    def __repr__(self) -> str:
        return f"QuestionBank({len(self)} questions)"

    def position(self, question_id: str) -> int:
        """The index of a question in this bank's arrays; KeyError when the id is unknown."""
        try:
            return self._positions[question_id]
        except KeyError:
            raise KeyError(f"no question {question_id!r} in the bank") from None

    def positions(self, question_ids: Iterable[str]) -> npt.NDArray[np.int64]:
        """The indexes of many questions at once (any iterable or array of ids); KeyError on the first unknown."""
        return np.fromiter((self.position(str(question_id)) for question_id in question_ids), dtype=np.int64)

    def by_id(self, question_id: str) -> Question:
        """The question with this id; KeyError when unknown."""
        return self._questions[self.position(question_id)]

    def to_frame(self) -> pd.DataFrame:
        """One row per question, in bank order; tags as lists and wordings as JSON so Parquet round-trips."""
        import pandas as pd  # imported on use: the app shell imports this module and should start fast

        records = [question.model_dump(mode="json") for question in self._questions]
        return pd.DataFrame(
            {
                "id": pd.Series([r["id"] for r in records], dtype=object),
                "text": pd.Series([r["text"] for r in records], dtype=object),
                "category": pd.Series([r["category"] for r in records], dtype=object),
                "difficulty": pd.Series([r["difficulty"] for r in records], dtype="int64"),
                "min_age": pd.Series([r["min_age"] for r in records], dtype="int64"),
                "max_age": pd.Series([r["max_age"] for r in records], dtype="Int64"),
                "tags": pd.Series([r["tags"] for r in records], dtype=object),
                "occasion": pd.Series([r["occasion"] for r in records], dtype=object),
                "wordings": pd.Series(
                    [json.dumps(r["wordings"], ensure_ascii=False, sort_keys=True) for r in records], dtype=object
                ),
            },
            columns=FRAME_COLUMNS,
        )

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "frame") -> QuestionBank:
        """A bank from `to_frame()`'s layout, in row order; errors name `source`, the 0-based row and the field."""
        located: list[tuple[str, Question]] = []
        for row, record in enumerate(frame.to_dict(orient="records")):
            where = f"{source} row {row}"
            values = {str(key): _plain(value) for key, value in record.items()}
            wordings = values.get("wordings")
            if isinstance(wordings, str):
                try:
                    values["wordings"] = json.loads(wordings)
                except json.JSONDecodeError as error:
                    raise BankError(f"{where}, field 'wordings': not valid JSON: {error.msg}") from None
            located.append((where, _validate(values, where=where)))
        return cls(_unique(located))


def _plain(value: Any) -> Any:
    """A Parquet/pandas cell as the plain Python value pydantic expects (arrays to lists, NA to None)."""
    import pandas as pd  # already loaded by whoever built the frame

    if isinstance(value, np.ndarray):
        return [_plain(item) for item in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (list, tuple, dict)):
        return value
    return None if pd.isna(value) else value


def _validate(values: Any, *, where: str) -> Question:
    if not isinstance(values, dict):
        raise BankError(f"{where}: expected a JSON object, got {type(values).__name__}")
    try:
        return Question.model_validate(values)
    except ValidationError as error:
        raise BankError(_describe(error, where=where)) from None


def _describe(error: ValidationError, *, where: str) -> str:
    parts = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"])
        message = "unknown field (not in the schema)" if item["type"] == "extra_forbidden" else item["msg"]
        parts.append(f"{where}, field {field!r}: {message}" if field else f"{where}: {message}")
    return "; ".join(parts)


def _unique(located: Iterable[tuple[str, Question]]) -> list[Question]:
    """The questions, refusing a repeated id with both places named."""
    first_seen: dict[str, str] = {}
    questions = []
    for where, question in located:
        if question.id in first_seen:
            raise BankError(f"{where}, field 'id': duplicate id {question.id!r} (first at {first_seen[question.id]})")
        first_seen[question.id] = where
        questions.append(question)
    return questions


def _parse_jsonl(source: Traversable | Path) -> list[tuple[str, Question]]:
    name = source.name
    try:
        text = source.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise BankError(f"{name}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    located = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        try:
            values = json.loads(line)
        except json.JSONDecodeError as error:
            raise BankError(f"{where}: malformed JSON: {error.msg} at column {error.colno}") from None
        located.append((where, _validate(values, where=where)))
    return located


def _packaged_files() -> list[Traversable]:
    data = resources.files("recsys.catalog").joinpath("data")
    return sorted((item for item in data.iterdir() if item.name.endswith(".jsonl")), key=lambda item: item.name)


def _by_id(questions: Iterable[Question]) -> QuestionBank:
    return QuestionBank(sorted(questions, key=lambda question: question.id))


def load_bank(path: Path | None = None) -> QuestionBank:
    """The bank sorted by id: the packaged `data/*.jsonl` by default, else a .jsonl, .parquet or directory of .jsonl."""
    if path is None:
        files: Sequence[Traversable | Path] = _packaged_files()
    elif path.is_dir():
        files = sorted(path.glob("*.jsonl"))
        if not files:
            raise BankError(f"{path}: no .jsonl files in this directory")
    elif not path.exists():
        raise BankError(f"{path}: no such file or directory")
    elif path.suffix == ".parquet":
        import pandas as pd  # imported on use, as in `to_frame`

        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as error:  # pyarrow's errors derive from these
            raise BankError(f"{path.name}: not a readable Parquet file ({error})") from None
        return _by_id(QuestionBank.from_frame(frame, source=path.name))
    elif path.suffix == ".jsonl":
        files = [path]
    else:
        raise BankError(f"{path}: expected a .jsonl or .parquet file, or a directory of .jsonl files")
    located = [item for source in files for item in _parse_jsonl(source)]
    return _by_id(_unique(located))

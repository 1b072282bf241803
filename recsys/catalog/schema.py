"""The question bank's record schema: one JSON object per line in `data/*.jsonl`."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Category(StrEnum):
    """Question categories; the value is the stable slug, `label` the Korean name."""

    MEMORIES = "memories"
    DREAMS = "dreams"
    GRATITUDE = "gratitude"
    DAILY = "daily"
    TASTES = "tastes"
    VALUES = "values"
    FAMILY_STORY = "family_story"
    SCHOOL_WORK = "school_work"
    IMAGINATION = "imagination"
    HEALTH_MIND = "health_mind"
    SEASONS = "seasons"

    @property
    def label(self) -> str:
        return CATEGORY_LABELS[self]


CATEGORY_LABELS: dict[Category, str] = {
    Category.MEMORIES: "추억",
    Category.DREAMS: "꿈과 미래",
    Category.GRATITUDE: "감사",
    Category.DAILY: "일상",
    Category.TASTES: "취향",
    Category.VALUES: "가치관",
    Category.FAMILY_STORY: "가족 이야기",
    Category.SCHOOL_WORK: "학교와 일",
    Category.IMAGINATION: "상상",
    Category.HEALTH_MIND: "건강과 마음",
    Category.SEASONS: "계절과 명절",
}


class AgeGroup(StrEnum):
    """Who reads a wording: child (<13), teen (13-18), adult (19-64), senior (65+)."""

    CHILD = "child"
    TEEN = "teen"
    ADULT = "adult"
    SENIOR = "senior"


class Occasion(StrEnum):
    """Calendar occasions; windows are computed per year in `recsys.catalog.calendar`."""

    NEW_YEAR = "new_year"  # 새해 (solar)
    SEOLLAL = "seollal"  # 설날 (lunar 1/1)
    CHILDRENS_DAY = "childrens_day"  # 어린이날 (5/5)
    PARENTS_DAY = "parents_day"  # 어버이날 (5/8)
    CHUSEOK = "chuseok"  # 추석 (lunar 8/15)
    CHRISTMAS = "christmas"  # 크리스마스 (12/25)
    SUMMER_VACATION = "summer_vacation"  # 여름방학
    WINTER_VACATION = "winter_vacation"  # 겨울방학
    SUNEUNG = "suneung"  # 수능 (third Thursday of November)
    BIRTHDAY = "birthday"  # a member's birthday (solar or lunar)


# Deeper questions need an older youngest member: a 5-year-old cannot carry a question about
# regrets or life values, even reworded.
MIN_AGE_FOR_DIFFICULTY: dict[int, int] = {1: 4, 2: 7, 3: 12}


class Question(BaseModel):
    """One question of the bank."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z_]+-\d{3}$", description="'<category slug>-<3 digits>'")
    text: str = Field(min_length=5, max_length=200, description="default (adult) wording")
    category: Category
    difficulty: int = Field(ge=1, le=3, description="1 light, 2 reflective, 3 deep")
    min_age: int = Field(ge=3, le=99, description="youngest member age this suits")
    max_age: int | None = Field(default=None, ge=3, le=120)
    tags: list[str] = Field(default_factory=list, max_length=8)
    occasion: Occasion | None = None
    wordings: dict[AgeGroup, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        if not self.id.startswith(self.category.value + "-"):
            raise ValueError(f"id {self.id!r} must start with its category slug {self.category.value!r}")
        if self.min_age < MIN_AGE_FOR_DIFFICULTY[self.difficulty]:
            raise ValueError(f"difficulty {self.difficulty} needs min_age >= {MIN_AGE_FOR_DIFFICULTY[self.difficulty]}")
        if self.max_age is not None and self.max_age < self.min_age:
            raise ValueError("max_age must be >= min_age")
        return self

    def wording_for(self, group: AgeGroup) -> str:
        """The text a member of `group` sees (falls back to the default wording)."""
        return self.wordings.get(group, self.text)

"""Every knob of the family behaviour simulator, with the assumption behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class SimulationParams:
    """Defaults describe a plausible Korean family app; docs/simulator.md explains each."""

    start_day: date = date(2026, 7, 1)
    # Family shape: 2-6 members; a third of families have a child under 13, some have grandparents.
    family_size_weights: tuple[float, ...] = (0.22, 0.30, 0.28, 0.14, 0.06)  # sizes 2..6
    share_with_children: float = 0.45
    share_with_grandparents: float = 0.25
    # Latent category taste: every family loves a few categories and is cool on others.
    category_taste_sd: float = 0.7
    favourite_categories: int = 2
    favourite_boost: float = 1.0
    member_taste_sd: float = 0.35
    # Onboarding interests reveal part of the taste: the top categories, with noise.
    interests_chosen: int = 3
    interest_noise_sd: float = 0.6
    # Depth: families differ in how deep they like questions; children pull towards light ones.
    depth_weight: float = 0.55
    child_depth_penalty: float = 0.35
    # Question appeal: some questions are simply better written / more fun than others.
    question_appeal_sd: float = 0.45
    # Per member willingness to answer, and the family's overall engagement level.
    family_base_mean: float = 0.9
    family_base_sd: float = 0.6
    teen_offset: float = -0.45
    senior_offset: float = 0.25
    # Age groups lean towards some categories (children: imagination, tastes; seniors: memories,
    # family stories, gratitude; teens: tastes and dreams, not school), on top of each member's own taste.
    age_taste_scale: float = 1.0
    # Deep questions land better at the weekend, light ones on busy weekdays.
    weekend_depth_effect: float = 0.3
    # Day effects.
    weekend_effect: float = 0.25
    monday_effect: float = -0.2
    mood_persistence: float = 0.7
    mood_sd: float = 0.35
    # Novelty fatigue: the same category again soon bores (decayed count, per-day decay).
    fatigue_weight: float = 0.55
    fatigue_decay: float = 0.55
    # A question for an occasion in its window (설날, 추석, a birthday ...) is a treat.
    occasion_boost: float = 1.1
    # Churn: boredom (days without completion, decayed) makes families skip days, then leave.
    boredom_decay: float = 0.8
    skip_base: float = -3.2
    skip_per_boredom: float = 0.7
    churn_base: float = -7.0
    churn_per_boredom: float = 0.9
    # Replacing: a family facing a dull question sometimes asks for another.
    replace_max: float = 0.35
    # Answer timing and length.
    latency_mean_hours: float = 3.0
    answer_length_mean: dict[str, float] = field(
        default_factory=lambda: {"child": 22.0, "teen": 35.0, "adult": 80.0, "senior": 55.0}
    )
    rating_share: float = 0.3

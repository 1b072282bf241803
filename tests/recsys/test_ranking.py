"""Model tests: the learned ranker beats random on a small simulated set; explanations add up."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from recsys import policy as policy_module
from recsys.candidates import DayCalendar, eligible_mask
from recsys.evaluation import online
from recsys.evaluation.online import simulated_ab
from recsys.events import EventType
from recsys.features.build import build_features
from recsys.features.state import EventArrays
from recsys.policy import Policy
from recsys.ranking.lightgbm_scorer import LightGBMScorer
from recsys.ranking.scorers import AffinityScorer, RandomScorer
from recsys.ranking.training import RankerParams, TrainingRows, fit_ranker, replay
from recsys.simulate.history import SimulatedHistory
from recsys.simulate.runner import Arm, run


@pytest.fixture(scope="module")
def trained(small_history: SimulatedHistory) -> tuple[TrainingRows, LightGBMScorer, object]:
    rows, state = replay(small_history.dataset)
    split = small_history.dataset.first_day + timedelta(days=28)
    model = fit_ranker(rows.window(None, split), valid=rows.window(split, None))
    return rows, model, state


def test_ranker_orders_held_out_outcomes_better_than_random(small_history: SimulatedHistory, trained) -> None:  # type: ignore[no-untyped-def]
    rows, model, _ = trained
    held_out = rows.window(small_history.dataset.first_day + timedelta(days=28), None)
    scores = model.score(held_out.features, n_pairs=len(held_out), rng=np.random.default_rng(0))
    # Within each family, how often does the better outcome get the higher score? Random: 0.5.
    concordant = total = 0
    for family in np.unique(held_out.family_rows):
        mine = held_out.family_rows == family
        labels, mine_scores = held_out.labels[mine], scores[mine]
        better = labels[:, None] > labels[None, :]
        concordant += int((better & (mine_scores[:, None] > mine_scores[None, :])).sum())
        total += int(better.sum())
    assert total > 200
    assert concordant / total > 0.55


def test_learned_policy_beats_random_in_a_small_simulated_ab(small_history: SimulatedHistory, trained) -> None:  # type: ignore[no-untyped-def]
    rows, model, state = trained
    result = simulated_ab(
        bank=small_history.dataset.bank, history_state=state, training_rows=rows, model=model, world_seed=3,
        n_families=150, days=10, start_day=small_history.dataset.last_day + timedelta(days=1),
        retrain_every=0, policies=("random", "lightgbm"),
    )  # fmt: skip
    assert result.completion["lightgbm"].low > result.completion["random"].high


def test_an_arm_run_alone_is_the_same_arm(small_history: SimulatedHistory, trained) -> None:  # type: ignore[no-untyped-def]
    # Each policy keeps its own random stream: tuning one arm alone measures what the full A/B would.
    rows, model, state = trained

    def affinity_arm(policies: tuple[str, ...]) -> np.ndarray:
        result = simulated_ab(
            bank=small_history.dataset.bank, history_state=state, training_rows=rows, model=model, world_seed=3,
            n_families=60, days=6, start_day=small_history.dataset.last_day + timedelta(days=1),
            retrain_every=0, policies=policies, epsilon=0.5,
        )  # fmt: skip
        return result.per_family["affinity"].to_numpy()

    np.testing.assert_array_equal(affinity_arm(("random", "popularity", "affinity")), affinity_arm(("affinity",)))


def test_the_learned_arm_retrains_on_everything_it_served_replacements_included(
    small_history: SimulatedHistory, trained, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    rows, model, state = trained
    fitted: list[int] = []
    arms: list[Arm] = []

    def recording_fit(train: TrainingRows, **kwargs):  # type: ignore[no-untyped-def]
        fitted.append(len(train) - len(rows))
        return fit_ranker(train, **kwargs)

    def recording_run(**kwargs):  # type: ignore[no-untyped-def]
        arms.extend(kwargs["arms"])
        return run(**kwargs)

    monkeypatch.setattr(online, "fit_ranker", recording_fit)
    monkeypatch.setattr(online, "run", recording_run)
    simulated_ab(
        bank=small_history.dataset.bank, history_state=state, training_rows=rows, model=model, world_seed=3,
        n_families=150, days=3, start_day=small_history.dataset.last_day + timedelta(days=1),
        retrain_every=3, policies=("lightgbm",),
    )  # fmt: skip
    events = EventArrays.concat(arms[0].events)
    served = int((events.kinds == EventType.SERVED).sum())
    replaced = int((events.kinds == EventType.REPLACED).sum())
    assert replaced > 0, "families asked for another question"
    assert fitted == [served], "one training row per served question, the first picks and the replacements"


def test_pointwise_objective_trains_too(trained) -> None:  # type: ignore[no-untyped-def]
    rows, _, _ = trained
    model = fit_ranker(rows, params=RankerParams(objective="binary", n_estimators=20))
    assert model.booster.current_iteration() == 20


def test_contributions_add_up_to_the_score(trained) -> None:  # type: ignore[no-untyped-def]
    rows, model, _ = trained
    features = rows.features[:50]
    contributions = model.explain(features)
    scores = model.score(features, n_pairs=50, rng=np.random.default_rng(0))
    np.testing.assert_allclose(contributions.sum(axis=1).to_numpy(), scores, rtol=1e-5, atol=1e-5)
    assert model.importance().index[0] in contributions.columns


def test_training_refuses_uninformative_rows(trained) -> None:  # type: ignore[no-untyped-def]
    rows, _, _ = trained
    only_zero = rows.select(rows.labels == 0)
    with pytest.raises(ValueError, match="two different outcomes"):
        fit_ranker(only_zero)


def test_policy_propensities_and_exploration() -> None:
    scores = np.array([[3.0, 2.0, -np.inf, 1.0], [1.0, -np.inf, -np.inf, -np.inf]])
    policy = Policy(RandomScorer(), epsilon=0.3)
    picks = [policy.decide(scores, family_rows=np.arange(2), rng=np.random.default_rng(s)) for s in range(400)]
    first = np.array([p.questions[0] for p in picks])
    assert set(first) <= {0, 1, 3}, "never an ineligible question"
    assert abs((first == 0).mean() - (0.7 + 0.1)) < 0.06
    top = next(p for p in picks if p.questions[0] == 0)
    assert top.propensity[0] == pytest.approx(0.8)
    other = next(p for p in picks if p.questions[0] == 1)
    assert other.propensity[0] == pytest.approx(0.1)
    assert all(p.questions[1] == 0 and p.propensity[1] == pytest.approx(1.0) for p in picks)
    assert top.alternatives[0].tolist() == [1, 3, -1], "replace offers the next best"
    np.testing.assert_allclose(policy.probability_of(scores, np.array([1, 0])), [0.1, 1.0])


def test_shortlist_builds_full_rows_only_for_the_first_stage_best(
    small_history: SimulatedHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    class CountingScorer:
        name: str = "counting"
        version: str | None = None
        needs_features: bool = True

        def __init__(self) -> None:
            self.rows: list[np.ndarray] = []

        def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
            assert features is not None
            self.rows.append(features)
            return np.full(n_pairs, 5.0)

    dataset = small_history.dataset
    _, state = replay(dataset)
    calendar = DayCalendar.build(dataset.last_day + timedelta(days=1), state.families)
    family_rows = np.arange(6)
    eligible = eligible_mask(
        bank=dataset.bank, families=state.families, family_rows=family_rows, asked=state.asked, calendar=calendar
    )
    built: list[int] = []

    def counting_build(*args: object, **kwargs: np.ndarray) -> np.ndarray:
        built.append(len(kwargs["family_rows"]))
        return build_features(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(policy_module, "build_features", counting_build)
    scorer = CountingScorer()
    policy = Policy(scorer, shortlist=3, diversity=False)
    scores = policy.score_matrix(
        state=state, family_rows=family_rows, eligible=eligible, calendar=calendar, rng=np.random.default_rng(0)
    )
    assert built == [3 * 6], "full feature rows only for the shortlisted"
    assert [len(rows) for rows in scorer.rows] == [3 * 6], "three per family reach the model"
    kept = scores == 5.0
    assert (kept.sum(axis=1) == 3).all()
    others = np.isfinite(scores) & ~kept
    assert others.sum() == eligible.sum() - 18 and (scores[others] < -1e5).all(), "the rest stay eligible, last"

    # The kept are the heuristic's best by the full feature rows, and the model saw exactly those rows.
    local, questions = np.nonzero(eligible)
    full = build_features(state, family_rows=family_rows[local], questions=questions, calendar=calendar)
    heuristic = np.full(eligible.shape, -np.inf)
    heuristic[local, questions] = AffinityScorer().score(full, n_pairs=len(local), rng=np.random.default_rng(0))
    best = np.zeros_like(kept)
    np.put_along_axis(best, np.argsort(-heuristic, axis=1)[:, :3], True, axis=1)
    np.testing.assert_array_equal(kept, best)
    kept_local, kept_questions = np.nonzero(kept)
    expected = build_features(state, family_rows=family_rows[kept_local], questions=kept_questions, calendar=calendar)
    np.testing.assert_array_equal(scorer.rows[0], expected)


def test_exploration_can_be_limited_to_the_best_candidates() -> None:
    scores = np.array([[5.0, 4.0, 3.0, 2.0, 1.0, -np.inf]])
    policy = Policy(RandomScorer(), epsilon=0.5, explore_top=2)
    picks = [policy.decide(scores, family_rows=np.arange(1), rng=np.random.default_rng(s)) for s in range(300)]
    assert {int(p.questions[0]) for p in picks} == {0, 1}
    second = next(p for p in picks if p.questions[0] == 1)
    assert second.propensity[0] == pytest.approx(0.25)
    np.testing.assert_allclose(policy.probability_of(scores, np.array([0])), [0.75])
    np.testing.assert_allclose(policy.probability_of(scores, np.array([3])), [0.0])

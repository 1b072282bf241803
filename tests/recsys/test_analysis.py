"""The notebook helpers: tables checked against frames small enough to work out by hand."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from recsys import analysis
from recsys.catalog.bank import QuestionBank
from recsys.evaluation.offline import TemporalSplit
from recsys.events import EVENT_COLUMNS, Dataset, dataset_from_frames
from recsys.features.build import FEATURE_NAMES
from recsys.policy import Policy
from recsys.ranking.lightgbm_scorer import LightGBMScorer
from recsys.ranking.scorers import AffinityScorer, RandomScorer
from recsys.ranking.training import RankerParams, TrainingRows, fit_ranker
from recsys.simulate.history import SimulatedHistory

COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
DAY = date(2026, 7, 1)


# --- a hand-made dataset: two families, three served questions ---------------------------------------


def _event(i: int, kind: str, family: str, question: str, *, member: str | None = None, **extra: Any) -> dict:
    row: dict[str, Any] = dict.fromkeys(EVENT_COLUMNS)
    row.update(
        event_id=f"e{i}",
        ts=datetime(2026, 7, 1, 9, tzinfo=UTC) + timedelta(minutes=i),
        day=DAY,
        family_id=family,
        member_id=member,
        type=kind,
        question_id=question,
    )
    row.update(extra)
    return row


@pytest.fixture(scope="module")
def tiny(bank: QuestionBank) -> Dataset:
    """Family a (child of 8, two adults) completes q1. Family b (adult and senior) answers q2 in full but
    replaces it anyway, then gets q3 (a replacement, propensity 1) and nobody answers that."""
    q1, q2, q3 = (str(question_id) for question_id in bank.ids[[0, 1, 2]])
    events = pd.DataFrame(
        [
            _event(0, "served", "a", q1, policy="affinity-explore", propensity=0.7, candidate_count=400),
            _event(1, "served", "b", q2, policy="affinity-explore", propensity=0.001, candidate_count=300),
            _event(2, "answered", "a", q1, member="a0", answer_length=100, latency_seconds=600.0),
            _event(3, "answered", "a", q1, member="a1", answer_length=50, latency_seconds=1200.0),
            _event(4, "answered", "a", q1, member="a2", answer_length=10, latency_seconds=60.0),
            _event(5, "completed", "a", q1),
            _event(6, "answered", "b", q2, member="b0", answer_length=30, latency_seconds=120.0),
            _event(7, "answered", "b", q2, member="b1", answer_length=70, latency_seconds=180.0),
            _event(8, "completed", "b", q2),
            _event(9, "replaced", "b", q2),
            _event(10, "served", "b", q3, policy="affinity-explore", propensity=1.0, candidate_count=299),
        ]
    )
    families = pd.DataFrame(
        {
            "family_id": ["a", "b"],
            "created_at": [datetime(2026, 6, 1, tzinfo=UTC)] * 2,
            "timezone": ["Asia/Seoul"] * 2,
            "interests": [[], []],
            "blocked_categories": [[], []],
        }
    )
    members = pd.DataFrame(
        {
            "member_id": ["a0", "a1", "a2", "b0", "b1"],
            "family_id": ["a", "a", "a", "b", "b"],
            "role": ["owner", "guardian", "child", "owner", "member"],
            "birth_year": [1990, 1991, 2018, 1980, 1950],  # in 2026: 36, 35, 8 | 46, 76
            "birth_month": [1, 2, 3, 4, 5],
            "birth_day": [1, 2, 3, 4, 5],
            "lunar_birthday": [False] * 5,
        }
    )
    return dataset_from_frames(events=events, families=families, members=members, bank=bank)


def test_served_decisions_joins_outcomes_and_family_attributes(tiny: Dataset) -> None:
    decisions = analysis.served_decisions(tiny)
    assert decisions["family_id"].tolist() == ["a", "b", "b"]
    assert decisions["answers"].tolist() == [3, 2, 0]
    # Every member answered the replaced question, yet it does not count as completed: the training labels
    # take a replacement as the family's "no".
    assert decisions["replaced"].tolist() == [False, True, False]
    assert decisions["completed"].tolist() == [True, False, False]
    assert decisions["age_group"].astype(str).tolist() == ["child", "adult", "adult"]  # the youngest member's
    assert decisions["household"].astype(str).tolist() == ["with child", "with senior", "with senior"]
    assert decisions["family_size"].tolist() == [3, 2, 2]
    assert decisions["category"].astype(str).tolist() == [tiny.bank[i].category.value for i in range(3)]


def test_engagement_counts_add_up_and_rates_are_pooled(tiny: Dataset) -> None:
    table = analysis.engagement_by_segment(tiny, by=["family_id"])
    assert table["served"].sum() == 3
    a, b = table.loc["a"], table.loc["b"]
    assert (a["served"], a["answer_rate"], a["member_answer_rate"], a["completion_rate"]) == (1, 1.0, 1.0, 1.0)
    # b: two serves, one with answers; 2 of 2 + 2 members asked answered; nothing completed (q2 was replaced).
    assert (b["served"], b["answer_rate"], b["member_answer_rate"], b["completion_rate"]) == (2, 0.5, 0.5, 0.0)


def test_engagement_by_category_and_age_group_matches_a_hand_made_frame() -> None:
    decisions = pd.DataFrame(
        {
            "family_id": ["f1", "f1", "f2", "f3", "f3", "f3"],
            "category": ["daily", "daily", "daily", "dreams", "daily", "dreams"],
            "age_group": ["child", "child", "adult", "adult", "adult", "adult"],
            "answers": [2, 0, 3, 1, 3, 2],
            "family_size": [2, 2, 3, 3, 3, 3],
            "completed": [True, False, True, False, True, False],
        }
    )
    table = analysis.engagement_by_segment(decisions)
    assert table["served"].sum() == len(decisions)
    assert table.loc[("daily", "child"), ["served", "families", "answer_rate", "completion_rate"]].tolist() == [
        2, 1, 0.5, 0.5
    ]  # fmt: skip
    assert table.loc[("daily", "adult"), ["served", "families", "member_answer_rate"]].tolist() == [2, 2, 1.0]
    assert table.loc[("dreams", "adult"), "member_answer_rate"] == pytest.approx(3 / 6)
    assert table.loc[("dreams", "adult"), "completion_rate"] == 0.0


def test_segments_of_a_simulated_history_add_up_to_every_served_event(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    served = int((dataset.events["type"] == "served").sum())
    table = analysis.engagement_by_segment(dataset)
    assert table["served"].sum() == served
    assert set(table.index.get_level_values("age_group")) <= set(analysis.AGE_GROUPS)
    daily = analysis.daily_engagement(dataset)
    assert daily["served"].sum() == served
    assert daily["completion_rate"].between(0, 1).all()


def test_answer_lengths_by_the_answering_members_age_group(tiny: Dataset) -> None:
    answers = analysis.answers_frame(tiny)
    assert answers["age_group"].astype(str).tolist() == ["adult", "adult", "child", "adult", "senior"]
    table = analysis.answer_lengths(answers)
    assert table["answers"].tolist() == [1, 3, 1]  # child, adult, senior: empty groups left out
    assert table.loc["adult", "mean_length"] == pytest.approx(60.0)
    assert table.loc["adult", "median_length"] == 50.0
    assert table.loc["senior", "median_latency_minutes"] == 3.0
    assert table.loc["child", "median_latency_minutes"] == 1.0
    assert analysis.answer_lengths(tiny, by="role").loc["child", "answers"] == 1


def test_propensity_summary_separates_replacements(tiny: Dataset) -> None:
    summary = analysis.propensity_summary(tiny)
    first = summary.loc[("affinity-explore", "first")]
    assert (first["served"], first["min"], first["max"], first["low_share"]) == (2, 0.001, 0.7, 0.5)
    assert summary.loc[("affinity-explore", "replacement"), "min"] == 1.0


def test_age_group_boundaries() -> None:
    assert analysis.age_group([0, 12, 13, 18, 19, 64, 65, 90]).tolist() == [
        "child", "child", "teen", "teen", "adult", "adult", "senior", "senior"
    ]  # fmt: skip


# --- calibration -------------------------------------------------------------------------------------


def test_perfectly_calibrated_predictions_give_a_diagonal() -> None:
    centers = (np.arange(10) + 0.5) / 10
    predicted = np.repeat(centers, 20)
    # In each bin, round(20 * p) of 20 rows completed: the observed rate equals the prediction exactly.
    observed = np.concatenate([np.arange(20) < round(20 * p) for p in centers])
    table = analysis.calibration_table(predicted, observed, bins=10)
    assert len(table) == 10
    assert table["count"].tolist() == [20] * 10
    np.testing.assert_allclose(table["observed_rate"], table["mean_predicted"])
    np.testing.assert_allclose(table["mean_predicted"], centers)
    assert analysis.calibration_error(table) == pytest.approx(0.0)


def test_overconfident_predictions_show_their_gap() -> None:
    table = analysis.calibration_table([0.9, 0.9, 0.95, 0.95, 1.0, 0.1], [1, 0, 1, 0, 0, 0], bins=5)
    # 1.0 belongs to the last bin, not one past it; empty bins are left out.
    assert table.index.tolist() == [0, 4]
    assert table.loc[4, "count"] == 5
    assert table.loc[4, "mean_predicted"] == pytest.approx(0.94)
    assert table.loc[4, "observed_rate"] == pytest.approx(0.4)
    assert (table.loc[4, "lower"], table.loc[4, "upper"]) == (0.8, 1.0)
    assert analysis.calibration_error(table) == pytest.approx((5 * 0.54 + 1 * 0.1) / 6)


def test_calibration_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="equal length"):
        analysis.calibration_table([0.5, 0.5], [1])
    with pytest.raises(ValueError, match="probabilities"):
        analysis.calibration_table([1.5], [1])
    with pytest.raises(ValueError, match="bins"):
        analysis.calibration_table([0.5], [1], bins=0)


# --- models ------------------------------------------------------------------------------------------


def _rows(features: np.ndarray, completed: np.ndarray, family_rows: np.ndarray) -> TrainingRows:
    n = len(completed)
    return TrainingRows(
        features=features.astype(np.float32),
        labels=np.where(completed, 2, 0),
        family_rows=family_rows,
        questions=np.arange(n),
        days=np.full(n, DAY.toordinal()) + np.arange(n) % 14,
        propensity=np.ones(n),
        completed=completed.astype(bool),
    )


@pytest.fixture(scope="module")
def synthetic_rows() -> TrainingRows:
    rng = np.random.default_rng(0)
    n = 600
    features = rng.random((n, len(FEATURE_NAMES)))
    features[:, COLUMN["category"]] = rng.integers(0, 11, n)
    completed = rng.random(n) < 0.15 + 0.7 * features[:, COLUMN["category_affinity"]]
    return _rows(features, completed, rng.integers(0, 40, n))


@pytest.fixture(scope="module")
def small_model(synthetic_rows: TrainingRows) -> LightGBMScorer:
    params = RankerParams(n_estimators=20, num_leaves=4, min_child_samples=10)
    return fit_ranker(synthetic_rows, params=params)


def test_completion_probability_is_the_sigmoid_lightgbm_predicts(
    small_model: LightGBMScorer, synthetic_rows: TrainingRows
) -> None:
    probability = analysis.completion_probability(small_model, synthetic_rows.features)
    np.testing.assert_allclose(probability, small_model.booster.predict(synthetic_rows.features), rtol=1e-9)
    table = analysis.calibration_table(probability, synthetic_rows.completed)
    assert table["count"].sum() == len(synthetic_rows)


def test_a_ranking_objective_has_no_probability(synthetic_rows: TrainingRows) -> None:
    params = RankerParams(objective="lambdarank", n_estimators=5, num_leaves=4, min_child_samples=10)
    ranker = fit_ranker(synthetic_rows, params=params)
    with pytest.raises(ValueError, match="binary"):
        analysis.completion_probability(ranker, synthetic_rows.features)


def test_an_explanation_adds_up_to_the_score(small_model: LightGBMScorer, synthetic_rows: TrainingRows) -> None:
    row = synthetic_rows.features[7]
    frame = analysis.explain_decision(small_model, row, top=5)
    raw = float(small_model.score(row[None, :], n_pairs=1, rng=np.random.default_rng(0))[0])
    assert frame["contribution"].sum() == pytest.approx(raw, abs=1e-6)
    assert frame.attrs["raw_score"] == pytest.approx(raw, abs=1e-6)
    assert frame.index[-2:].tolist() == [f"{len(FEATURE_NAMES) - 5} other features", "bias"]
    shown = frame["contribution"].iloc[:5].abs().to_numpy()
    assert (np.diff(shown) <= 0).all()
    assert frame.loc["category_affinity", "value"] == pytest.approx(row[COLUMN["category_affinity"]])


def test_feature_importance_shares(small_model: LightGBMScorer) -> None:
    frame = analysis.feature_importance_frame(small_model)
    assert frame.index[0] == "category_affinity"  # the only feature the outcome depends on
    assert frame["share"].sum() == pytest.approx(1.0)
    assert frame["cumulative_share"].iloc[-1] == pytest.approx(1.0)
    assert len(analysis.feature_importance_frame(small_model, top=3)) == 3


def test_completion_auc_by_hand() -> None:
    scores = [3, 1, 2, 1, 2]
    completed = [1, 0, 0, 1, 0]
    # Family 0: the completed 3 beats 1 and 2 (2 of 2). Family 1: the completed 1 loses to 2 (0 of 1).
    assert analysis.completion_auc(scores, completed, groups=[0, 0, 0, 1, 1]) == (pytest.approx(2 / 3), 3)
    # Pooled: 3 beats all three negatives, 1 ties one negative and loses to two: 3.5 of 6.
    assert analysis.completion_auc(scores, completed) == (pytest.approx(3.5 / 6), 6)
    auc, pairs = analysis.completion_auc([1, 2], [1, 1])
    assert np.isnan(auc) and pairs == 0


class _Column:
    """A scorer that returns one feature column (negated on request): an order known in advance."""

    version = None
    needs_features = True

    def __init__(self, column: int, *, sign: float = 1.0) -> None:
        self.name = f"column {column}"
        self.column, self.sign = column, sign

    def score(self, features: np.ndarray | None, *, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
        assert features is not None
        return self.sign * features[:, self.column]


def test_compare_by_segment_scores_each_model_on_the_same_rows() -> None:
    features = np.zeros((6, len(FEATURE_NAMES)))
    features[:, 0] = [3, 1, 2, 1, 2, 5]
    rows = _rows(features, np.array([1, 0, 0, 1, 0, 1]), family_rows=np.array([0, 0, 0, 1, 1, 2]))
    table = analysis.compare_by_segment(
        rows,
        {"champion": _Column(0), "challenger": _Column(0, sign=-1.0)},
        segments=["x", "x", "x", "y", "y", "y"],
    )
    assert table.index.tolist() == ["x", "y", "all"]
    assert table.columns.tolist() == ["rows", "completion_rate", "pairs", "champion", "challenger"]
    assert table.loc[["x", "y"], "rows"].sum() == table.loc["all", "rows"] == 6
    assert table.loc["x", "champion"] == 1.0 and table.loc["x", "challenger"] == 0.0
    assert table.loc["y", "champion"] == 0.0 and table.loc["y", "challenger"] == 1.0
    # Family 2 has one decision, so it adds no within-family pair.
    assert table.loc["all", "pairs"] == 3
    assert table.loc["all", "champion"] == pytest.approx(2 / 3)
    assert table.loc["y", "completion_rate"] == pytest.approx(2 / 3)
    pooled = analysis.compare_by_segment(rows, {"champion": _Column(0)}, segments=["s"] * 6, metric="auc")
    assert pooled.loc["all", "pairs"] == 9
    with pytest.raises(ValueError, match="one label per row"):
        analysis.compare_by_segment(rows, {"champion": _Column(0)}, segments=["x"])


def test_compare_by_segment_orders_age_groups_and_repeats_random_scores(synthetic_rows: TrainingRows) -> None:
    segments = analysis.segment_labels(synthetic_rows, by="age_group")
    scorers = {"random": RandomScorer(), "affinity": AffinityScorer()}
    table = analysis.compare_by_segment(synthetic_rows, scorers, segments=segments, seed=4)
    again = analysis.compare_by_segment(synthetic_rows, scorers, segments=segments, seed=4)
    pd.testing.assert_frame_equal(table, again)
    present = [group for group in analysis.AGE_GROUPS if group in set(segments)]
    assert table.index.tolist() == [*present, "all"]
    # The outcome depends on category_affinity, which the heuristic weighs most.
    assert table.loc["all", "affinity"] > table.loc["all", "random"]


def test_segment_labels_read_the_rows_features() -> None:
    features = np.zeros((4, len(FEATURE_NAMES)))
    features[:, COLUMN["youngest_age"]] = [5, 15, 40, 70]
    features[:, COLUMN["family_size"]] = [2, 3, 5, 7]
    features[:, COLUMN["children"]] = [1, 0, 0, 0]
    features[:, COLUMN["seniors"]] = [1, 0, 0, 1]
    features[:, COLUMN["tenure_days"]] = [0, 6, 7, 40]
    rows = _rows(features, np.zeros(4, dtype=bool), np.arange(4))
    assert analysis.segment_labels(rows, by="age_group").tolist() == ["child", "teen", "adult", "senior"]
    assert analysis.segment_labels(rows, by="family_size").tolist() == ["2", "3", "5+", "5+"]
    assert analysis.segment_labels(rows, by="household").tolist() == ["with child", "other", "other", "with senior"]
    assert analysis.segment_labels(rows, by="tenure").tolist() == ["week 1", "week 1", "weeks 2-4", "later"]


# --- off-policy --------------------------------------------------------------------------------------


@pytest.fixture
def logged() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "propensity": [0.5, 0.5, 0.1, 0.1],
            "reward": [1.0, 0.0, 1.0, 0.0],
            "target:same": [0.5, 0.5, 0.1, 0.1],
            "target:bold": [0.0, 0.0, 1.0, 0.5],
            "target:never": [0.0, 0.0, 0.0, 0.0],
        }
    )


def test_off_policy_table(logged: pd.DataFrame) -> None:
    table = analysis.off_policy_table(logged, n_resamples=200)
    assert table.index.tolist() == ["logged", "same", "bold", "never"]
    assert table.loc["logged", "ips"] == 0.5 and table.loc["logged", "ess"] == 4
    # Weights 1 everywhere: IPS and SNIPS are the plain mean, with every row effective.
    assert table.loc["same", ["ips", "snips", "ess", "matched"]].tolist() == [0.5, 0.5, 4.0, 4]
    # Weights 0, 0, 10, 5: IPS (10 * 1) / 4, SNIPS 10 / 15, ESS 15^2 / 125.
    bold = table.loc["bold"]
    assert (bold["ips"], bold["snips"], bold["ess"]) == (pytest.approx(2.5), pytest.approx(2 / 3), pytest.approx(1.8))
    assert bold["matched"] == 2 and bold["ess_share"] == pytest.approx(0.45)
    assert np.isnan(table.loc["never", "snips"]) and table.loc["never", "matched"] == 0


def test_clipping_caps_the_weights(logged: pd.DataFrame) -> None:
    table = analysis.clipping_table(logged, policy="bold", clips=(None, 5.0, 1.0), n_resamples=200)
    assert table.index.tolist() == ["none", "5", "1"]
    assert table["ips"].tolist() == pytest.approx([2.5, 5 / 4, 1 / 4])
    assert table.loc["5", "clipped_share"] == 0.25  # only the weight of 10
    assert table.loc["1", "ess"] == pytest.approx(2.0)
    summary = analysis.weight_summary(logged)
    assert summary.loc["bold", "max"] == 10.0 and summary.loc["bold", "matched_share"] == 0.5
    assert summary.loc["same", "top_1pct_weight_share"] == pytest.approx(0.25)


def test_logged_decisions_match_the_offline_evaluation_replay(small_history: SimulatedHistory) -> None:
    dataset = small_history.dataset
    split = TemporalSplit.by_fractions(dataset.first_day, dataset.last_day)
    policies = {"random": Policy(RandomScorer()), "affinity": Policy(AffinityScorer())}
    logged = analysis.logged_decisions(dataset, policies=policies, split=split)
    events = dataset.events
    served = events[(events["type"] == "served") & (events["day"] >= split.test)]
    assert len(logged) == len(served.drop_duplicates(["family_id", "day"]))
    assert {"target:random", "target:affinity"} <= set(logged.columns)
    assert logged[["target:random", "target:affinity"]].stack().between(0, 1).all()
    assert logged["reward"].isin([0.0, 1.0]).all()
    table = analysis.off_policy_table(logged, n_resamples=100)
    assert table.loc["logged", "ips"] == pytest.approx(logged["reward"].mean())


# --- loading and figures -----------------------------------------------------------------------------


def test_resolve_data_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="woorizip simulate"):
        analysis.resolve_data_folder({}, default=tmp_path / "missing")
    (tmp_path / "events.parquet").touch()
    assert analysis.resolve_data_folder({}, default=tmp_path) == tmp_path
    assert analysis.resolve_data_folder({analysis.DATA_VARIABLE: str(tmp_path)}, default=Path("nowhere")) == tmp_path


def _renders(figure: Figure) -> bool:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.tell() > 1000


def test_figures_render(
    tiny: Dataset, small_model: LightGBMScorer, synthetic_rows: TrainingRows, logged: pd.DataFrame
) -> None:
    decisions = analysis.served_decisions(tiny)
    probability = analysis.completion_probability(small_model, synthetic_rows.features)
    figures = [
        analysis.engagement_heatmap(analysis.engagement_by_segment(decisions)),
        analysis.daily_engagement_figure(analysis.daily_engagement(decisions)),
        analysis.answer_length_figure(analysis.answers_frame(tiny)),
        analysis.calibration_figure(analysis.calibration_table(probability, synthetic_rows.completed)),
        analysis.importance_figure(analysis.feature_importance_frame(small_model)),
        analysis.explanation_figure(analysis.explain_decision(small_model, synthetic_rows.features[0])),
        analysis.off_policy_figure(analysis.off_policy_table(logged, n_resamples=50)),
    ]
    assert all(isinstance(figure, Figure) and _renders(figure) for figure in figures)
    # What Jupyter calls to show a figure that ends a cell: no pyplot backend needed.
    assert all(figure._repr_png_().startswith(b"\x89PNG") for figure in figures)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="two columns"):
        analysis.engagement_heatmap(analysis.engagement_by_segment(decisions, by=["category"]))

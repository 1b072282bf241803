"""Tables and figures for the notebooks: engagement, calibration, per-segment model comparison, off-policy.

Every function takes data in and hands a pandas DataFrame (or a matplotlib Figure built without pyplot)
back, so the notebooks stay a sequence of calls and everything they show is tested here. Estimators,
features and scorers come from the rest of `recsys`; nothing here re-derives them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from recsys.catalog.bank import CATEGORIES
from recsys.catalog.schema import AgeGroup
from recsys.evaluation.bootstrap import Interval, bootstrap_mean
from recsys.evaluation.off_policy import OffPolicyEstimate, estimate, importance_weights
from recsys.evaluation.offline import TemporalSplit, _Collector
from recsys.events import Dataset, EventType
from recsys.families import FamilyTable
from recsys.features.build import FEATURE_NAMES
from recsys.policy import Policy
from recsys.ranking.lightgbm_scorer import LightGBMScorer
from recsys.ranking.scorers import Scorer
from recsys.ranking.training import TrainingRows, replay

DATA_VARIABLE = "WOORIZIP_NOTEBOOK_DATA"
SIMULATE_COMMAND = "woorizip simulate --families 300 --days 60 --seed 1 --out var/notebook-data"
AGE_GROUPS: tuple[str, ...] = tuple(group.value for group in AgeGroup)  # child, teen, adult, senior
CATEGORY_ORDER: tuple[str, ...] = tuple(category.value for category in CATEGORIES)
HOUSEHOLDS: tuple[str, ...] = ("with child", "with senior", "other")  # FamilyTable.segment's 0, 1, 2
SegmentKind = Literal["age_group", "family_size", "household", "tenure"]
_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}
_TARGET = "target:"  # prefix of the per-policy probability columns of `logged_decisions`


# --- loading ----------------------------------------------------------------------------------------


def resolve_data_folder(environ: Mapping[str, str], *, default: Path) -> Path:
    """The folder named by WOORIZIP_NOTEBOOK_DATA (else `default`); FileNotFoundError says how to make one."""
    folder = Path(environ.get(DATA_VARIABLE) or default)
    if not (folder / "events.parquet").is_file():
        raise FileNotFoundError(
            f"no dataset folder at {folder.resolve()}: run `{SIMULATE_COMMAND}` in the repository root, "
            f"or point {DATA_VARIABLE} at a dataset folder (docs/events.md)"
        )
    return folder


# --- who is asked -----------------------------------------------------------------------------------


def age_group(ages: ArrayLike) -> np.ndarray:
    """AgeGroup values for ages: child (<13), teen (13-18), adult (19-64), senior (65+)."""
    a = np.asarray(ages, dtype=float)
    return np.select([a < 13, a < 19, a < 65], list(AGE_GROUPS[:3]), default=AGE_GROUPS[3]).astype(object)


def _ordered(values: ArrayLike, order: Sequence[str]) -> pd.Categorical:
    # Ordered categoricals keep tables and heatmap axes in a meaningful order instead of alphabetical.
    return pd.Categorical(np.asarray(values, dtype=object), categories=list(order), ordered=True)


def _family_attributes(dataset: Dataset, family_ids: pd.Series, days: Sequence[date]) -> pd.DataFrame:
    """Per row: youngest member's age group, family size and household as of that row's day."""
    table = FamilyTable.from_frames(dataset.families, dataset.members)
    rows = family_ids.astype(str).map(table.index).to_numpy(dtype=np.int64)
    years = np.asarray([day.year for day in days], dtype=np.int64)
    youngest = np.zeros(len(rows))
    size = np.zeros(len(rows), dtype=np.int64)
    household = np.zeros(len(rows), dtype=np.int64)
    # Ages are calendar-year ages (as in FamilyTable), so one profile per year covers every day in it.
    for year in np.unique(years):
        here = years == year
        profile = table.age_profile(date(int(year), 1, 1))
        youngest[here] = profile[rows[here], 4]
        size[here] = profile[rows[here], 0]
        household[here] = table.segment(date(int(year), 1, 1))[rows[here]]
    return pd.DataFrame(
        {
            "age_group": _ordered(age_group(youngest), AGE_GROUPS),
            "family_size": size,
            "household": _ordered(np.asarray(HOUSEHOLDS, dtype=object)[household], HOUSEHOLDS),
        }
    )


def served_decisions(dataset: Dataset) -> pd.DataFrame:
    """One row per served event with its question, family attributes and outcome.

    `completed` follows the training labels: every member answered and the family did not replace it.
    `age_group` is the youngest member's, because the youngest decides which questions fit the family.
    """
    events = dataset.events
    keys = ["family_id", "question_id", "day"]
    served = events[events["type"] == EventType.SERVED].reset_index(drop=True)
    index = pd.MultiIndex.from_frame(served[keys])
    answered = events[events["type"] == EventType.ANSWERED].groupby(keys)["member_id"].nunique()
    completed = pd.MultiIndex.from_frame(events.loc[events["type"] == EventType.COMPLETED, keys])
    replaced = pd.MultiIndex.from_frame(events.loc[events["type"] == EventType.REPLACED, keys])
    positions = dataset.bank.positions(served["question_id"].astype(str).to_numpy())
    frame = pd.DataFrame(
        {
            "family_id": served["family_id"].astype(str),
            "question_id": served["question_id"].astype(str),
            "day": served["day"],
            "category": _ordered(
                np.asarray(CATEGORY_ORDER, dtype=object)[dataset.bank.category_index[positions]], CATEGORY_ORDER
            ),
            "difficulty": dataset.bank.difficulty[positions].astype(np.int64),
            "policy": served["policy"].astype(object),
            "propensity": served["propensity"].astype(float),
            "answers": answered.reindex(index).fillna(0).to_numpy(dtype=np.int64),
            "replaced": index.isin(replaced),
            "completed": index.isin(completed) & ~index.isin(replaced),
        }
    )
    attributes = _family_attributes(dataset, frame["family_id"], list(frame["day"]))
    return pd.concat([frame, attributes], axis=1)


def _decisions(data: Dataset | pd.DataFrame) -> pd.DataFrame:
    return served_decisions(data) if isinstance(data, Dataset) else data


def _engagement(groups: Any) -> pd.DataFrame:
    table = groups.agg(
        served=("family_id", "size"),
        families=("family_id", "nunique"),
        answered=("answers", lambda a: int((a > 0).sum())),
        answers=("answers", "sum"),
        members_asked=("family_size", "sum"),
        completed=("completed", "sum"),
    )
    # Rates from pooled counts (not means of per-family rates): each served question weighs the same.
    table["answer_rate"] = table["answered"] / table["served"]
    table["member_answer_rate"] = table["answers"] / table["members_asked"]
    table["completion_rate"] = table["completed"] / table["served"]
    return table.drop(columns=["answers", "members_asked"])


def engagement_by_segment(
    data: Dataset | pd.DataFrame, *, by: Sequence[str] = ("category", "age_group")
) -> pd.DataFrame:
    """Served count, families, answer rate (>= 1 member answered), member answer rate and completion rate per group.

    `data` is a dataset or a `served_decisions` frame; `by` names its columns (category, age_group,
    household, family_size, difficulty, policy ...). Groups without any served question are left out,
    so `served` sums to the number of served events.
    """
    decisions = _decisions(data)
    return _engagement(decisions.groupby(list(by), observed=True))


def daily_engagement(data: Dataset | pd.DataFrame) -> pd.DataFrame:
    """The engagement columns of `engagement_by_segment` per day (families joining show in `families`)."""
    return _engagement(_decisions(data).groupby("day"))


def answers_frame(dataset: Dataset) -> pd.DataFrame:
    """One row per answer: the answering member's age group and role, the question's category, length and latency."""
    events = dataset.events
    answered = events[events["type"] == EventType.ANSWERED].reset_index(drop=True)
    members = dataset.members.set_index(dataset.members["member_id"].astype(str))
    member_ids = answered["member_id"].astype(str)
    birth_year = members["birth_year"].reindex(member_ids).to_numpy(dtype=float)
    ages = np.asarray([day.year for day in answered["day"]], dtype=float) - birth_year
    positions = dataset.bank.positions(answered["question_id"].astype(str).to_numpy())
    return pd.DataFrame(
        {
            "member_id": member_ids,
            "age_group": _ordered(age_group(ages), AGE_GROUPS),
            "role": members["role"].reindex(member_ids).astype(object).to_numpy(),
            "category": _ordered(
                np.asarray(CATEGORY_ORDER, dtype=object)[dataset.bank.category_index[positions]], CATEGORY_ORDER
            ),
            "answer_length": answered["answer_length"].astype(float).to_numpy(),
            "latency_minutes": answered["latency_seconds"].astype(float).to_numpy() / 60.0,
        }
    )


def answer_lengths(data: Dataset | pd.DataFrame, *, by: str = "age_group") -> pd.DataFrame:
    """Answer length (characters) per group of `answers_frame`: count, mean, quartiles, median latency."""
    answers = answers_frame(data) if isinstance(data, Dataset) else data
    groups = answers.groupby(by, observed=True)
    return groups.agg(
        answers=("answer_length", "size"),
        mean_length=("answer_length", "mean"),
        q25_length=("answer_length", lambda s: s.quantile(0.25)),
        median_length=("answer_length", "median"),
        q75_length=("answer_length", lambda s: s.quantile(0.75)),
        median_latency_minutes=("latency_minutes", "median"),
    )


# --- calibration ------------------------------------------------------------------------------------


def completion_probability(model: LightGBMScorer, features: np.ndarray) -> np.ndarray:
    """P(every member answers) from a pointwise (binary) model: sigmoid of its raw score.

    A LambdaRank score is only an order, not a probability, so asking for one is an error.
    """
    settings = [line for line in model.booster.model_to_string().splitlines() if line.startswith("objective=")]
    objective = settings[0].removeprefix("objective=").split() if settings else []
    if not objective or objective[0] != "binary":
        raise ValueError(f"calibration needs the pointwise binary objective, this model has {objective or 'none'}")
    # LightGBM's `sigmoid` parameter scales the raw score; 1 unless someone changed it.
    scale = next((float(p.split(":")[1]) for p in objective[1:] if p.startswith("sigmoid:")), 1.0)
    raw = np.asarray(model.booster.predict(features, raw_score=True))
    return np.asarray(1.0 / (1.0 + np.exp(-scale * raw)))


def calibration_table(predicted: ArrayLike, observed: ArrayLike, *, bins: int = 10) -> pd.DataFrame:
    """Per equal-width probability bin (non-empty ones): count, mean predicted and observed rate.

    A calibrated model has `mean_predicted` close to `observed_rate` in every bin with enough rows.
    """
    p = np.asarray(predicted, dtype=float)
    y = np.asarray(observed, dtype=float)
    if p.ndim != 1 or p.shape != y.shape:
        raise ValueError(f"predicted and observed must be 1-D and of equal length, got {p.shape} and {y.shape}")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError("predicted must be probabilities in [0, 1]")
    if not np.all((y >= 0) & (y <= 1)):
        raise ValueError("observed must be outcomes (or rates) in [0, 1]")
    # Clip so that p == 1.0 falls into the last bin rather than one past it.
    which = np.minimum((p * bins).astype(np.int64), bins - 1)
    frame = pd.DataFrame({"bin": which, "predicted": p, "observed": y})
    table = frame.groupby("bin").agg(
        count=("predicted", "size"), mean_predicted=("predicted", "mean"), observed_rate=("observed", "mean")
    )
    table.insert(0, "lower", table.index.to_numpy() / bins)
    table.insert(1, "upper", (table.index.to_numpy() + 1) / bins)
    table["gap"] = table["observed_rate"] - table["mean_predicted"]
    return table


def calibration_error(table: pd.DataFrame) -> float:
    """Expected calibration error: the count-weighted mean |observed - predicted| over the bins."""
    weights = table["count"].to_numpy(dtype=float)
    return float(np.sum(weights * table["gap"].abs().to_numpy()) / weights.sum()) if weights.sum() else float("nan")


# --- models -----------------------------------------------------------------------------------------


def feature_importance_frame(model: LightGBMScorer, *, top: int | None = None) -> pd.DataFrame:
    """Global importance (total gain) per feature with its share of all gain, largest first."""
    gain = model.importance()
    total = float(gain.sum())
    frame = pd.DataFrame({"gain": gain, "share": gain / total if total else 0.0})
    frame["cumulative_share"] = frame["share"].cumsum()
    frame.index.name = "feature"
    return frame if top is None else frame.head(top)


def explain_decision(model: LightGBMScorer, features: np.ndarray, *, top: int = 8) -> pd.DataFrame:
    """One decision's score split into its `top` feature contributions, the rest, and the bias.

    `features` is one feature row. The `contribution` column adds up to the raw score (log-odds for
    the pointwise model), which `attrs["raw_score"]` holds; `value` is the feature's value.
    """
    row = np.asarray(features, dtype=np.float32).reshape(1, -1)
    contributions = model.explain(row).iloc[0]
    bias = float(contributions.pop("bias"))
    order = contributions.abs().sort_values(ascending=False).index
    shown, rest = list(order[:top]), list(order[top:])
    frame = pd.DataFrame(
        {
            "value": [float(row[0, _COLUMN[name]]) for name in shown],
            "contribution": contributions[shown].to_numpy(dtype=float),
        },
        index=pd.Index(shown, name="feature"),
    )
    tail = pd.DataFrame(
        {"value": [np.nan, np.nan], "contribution": [float(contributions[rest].sum()), bias]},
        index=pd.Index([f"{len(rest)} other features", "bias"], name="feature"),
    )
    frame = pd.concat([frame, tail])
    frame.attrs["raw_score"] = float(frame["contribution"].sum())
    return frame


def segment_labels(rows: TrainingRows, *, by: SegmentKind = "age_group") -> np.ndarray:
    """A segment label per training row, read from its own features (as of the decision day).

    age_group: the youngest member's; family_size: 2, 3, 4, 5+; household: with child (<13),
    with senior (65+), other (FamilyTable.segment); tenure: the family's first, second-to-fourth or later weeks.
    """
    f = rows.features
    if by == "age_group":
        return age_group(f[:, _COLUMN["youngest_age"]])
    if by == "family_size":
        size = f[:, _COLUMN["family_size"]].astype(np.int64)
        return np.where(size >= 5, "5+", size.astype(str)).astype(object)
    if by == "household":
        with_child, with_senior = f[:, _COLUMN["children"]] > 0, f[:, _COLUMN["seniors"]] > 0
        return np.select([with_child, with_senior], list(HOUSEHOLDS[:2]), default=HOUSEHOLDS[2]).astype(object)
    if by == "tenure":
        tenure = f[:, _COLUMN["tenure_days"]]
        return np.select([tenure < 7, tenure < 28], ["week 1", "weeks 2-4"], default="later").astype(object)
    raise ValueError(f"unknown segment kind {by!r}")


def completion_auc(scores: ArrayLike, completed: ArrayLike, *, groups: ArrayLike | None = None) -> tuple[float, int]:
    """(AUC, pairs): the share of (completed, not completed) pairs the scores order right, ties counting half.

    With `groups`, only pairs within the same group count (e.g. the same family): see `compare_by_segment`.
    NaN when there is no such pair.
    """
    frame = pd.DataFrame(
        {
            "score": np.asarray(scores, dtype=float),
            "positive": np.asarray(completed, dtype=bool),
            "group": np.zeros(len(np.asarray(completed))) if groups is None else np.asarray(groups),
        }
    )
    # Mann-Whitney per group: the positives' rank sum minus its minimum counts the pairs they win.
    frame["rank"] = frame.groupby("group")["score"].rank(method="average")
    frame["positive_rank"] = frame["rank"] * frame["positive"]
    per_group = frame.groupby("group").agg(
        positives=("positive", "sum"), size=("positive", "size"), positive_ranks=("positive_rank", "sum")
    )
    wins = per_group["positive_ranks"] - per_group["positives"] * (per_group["positives"] + 1) / 2
    pairs = per_group["positives"] * (per_group["size"] - per_group["positives"])
    total = int(pairs.sum())
    return (float(wins.sum() / total) if total else float("nan")), total


def compare_by_segment(
    rows: TrainingRows,
    scorers: Mapping[str, Scorer],
    *,
    segments: ArrayLike,
    metric: Literal["family_auc", "auc"] = "family_auc",
    seed: int = 0,
) -> pd.DataFrame:
    """Champion vs challenger (and any baseline) per segment, on the same held-out rows.

    The metric is the AUC of completion, by default within families: of two held-out decisions of one
    family, one completed and one not, how often does the model score the completed one higher?
    AUC only uses the order, which is all a policy uses, so LightGBM log-odds and the baselines'
    arbitrary scales compare fairly; restricting pairs to one family keeps a model from scoring by
    knowing which families complete everything, which would never change the question a family gets.
    The pairs still span days, so day effects (mood, weekday) count too: a logged decision has one outcome,
    so "which question for this family today" cannot be measured more directly offline.
    `metric="auc"` pools all pairs of the segment instead. Columns: rows, completion rate, pairs
    behind the metric (small means noisy), then one column per scorer; the last row is all segments.
    """
    labels = np.asarray(segments, dtype=object)
    if len(labels) != len(rows):
        raise ValueError(f"segments must have one label per row: {len(labels)} labels, {len(rows)} rows")
    # Every scorer sees the same rows and its own seeded generator, so results repeat exactly.
    scores = {
        name: np.asarray(scorer.score(rows.features, n_pairs=len(rows), rng=np.random.default_rng(seed)))
        for name, scorer in scorers.items()
    }
    groups = rows.family_rows if metric == "family_auc" else None
    order = list(pd.unique(pd.Series(labels)))
    if all(label in AGE_GROUPS for label in order):
        order = [label for label in AGE_GROUPS if label in order]
    else:
        order = sorted(order, key=str)
    table: dict[str, dict[str, float]] = {}
    for segment in [*order, "all"]:
        mask = np.ones(len(rows), dtype=bool) if segment == "all" else labels == segment
        completed = rows.completed[mask]
        within = None if groups is None else groups[mask]
        # The pairs depend only on outcomes and families, not on the scorer: the same for every column.
        row: dict[str, float] = {"rows": int(mask.sum()), "completion_rate": float(completed.mean()), "pairs": 0}
        for name, values in scores.items():
            row[name], row["pairs"] = completion_auc(values[mask], completed, groups=within)
        table[str(segment)] = row
    frame = pd.DataFrame.from_dict(table, orient="index")
    frame.index.name = "segment"
    return frame


# --- off-policy -------------------------------------------------------------------------------------


def propensity_summary(data: Dataset | pd.DataFrame) -> pd.DataFrame:
    """Logged propensities per logging policy, first serves apart from replacements (logged with 1).

    `low_share` is the share of serves with propensity below 0.5: the exploration picks an
    epsilon-greedy logger makes, whose large weights off-policy estimates depend on.
    """
    decisions = _decisions(data).copy()
    first = ~decisions.duplicated(["family_id", "day"])
    decisions["serve"] = np.where(first, "first", "replacement")
    return decisions.groupby(["policy", "serve"]).agg(
        served=("propensity", "size"),
        min=("propensity", "min"),
        median=("propensity", "median"),
        max=("propensity", "max"),
        low_share=("propensity", lambda p: float((p < 0.5).mean())),
    )


def logged_decisions(
    dataset: Dataset, *, policies: Mapping[str, Policy], split: TemporalSplit, seed: int = 0
) -> pd.DataFrame:
    """Each first serve of the test window with its reward, logged propensity and every policy's probability of it.

    The probabilities come from the same replay `evaluate_offline` uses (each policy scoring the family's
    eligible questions as of that day), so the estimates here match the evaluation report's.
    Columns: family_id, question_id, day, propensity, reward (completed, not replaced), `target:<policy>`.
    """
    collector = _Collector(policies, split, seed)
    replay(dataset, on_day=collector)
    if not collector.logged:
        raise ValueError(f"no served questions between {split.test} and {split.end}")
    logged = pd.concat(collector.logged)[["family_id", "question_id", "day", "propensity"]].reset_index(drop=True)
    events = dataset.events
    keys = ["family_id", "question_id", "day"]
    done = pd.MultiIndex.from_frame(events.loc[events["type"] == EventType.COMPLETED, keys])
    replaced = pd.MultiIndex.from_frame(events.loc[events["type"] == EventType.REPLACED, keys])
    index = pd.MultiIndex.from_frame(logged[keys])
    frame = pd.DataFrame(
        {
            "family_id": logged["family_id"].astype(str),
            "question_id": logged["question_id"].astype(str),
            "day": logged["day"],
            "propensity": logged["propensity"].astype(float),
            "reward": (index.isin(done) & ~index.isin(replaced)).astype(float),
        }
    )
    for name in policies:
        frame[f"{_TARGET}{name}"] = np.concatenate(collector.target_probability[name])
    return frame


def _policy_names(logged: pd.DataFrame) -> list[str]:
    return [column.removeprefix(_TARGET) for column in logged.columns if column.startswith(_TARGET)]


def _columns(
    *, ips: Interval, snips: Interval, ess: float, matched: int, n: int, clipped_share: float
) -> dict[str, float]:
    return {
        "ips": ips.estimate,
        "ips_low": ips.low,
        "ips_high": ips.high,
        "snips": snips.estimate,
        "snips_low": snips.low,
        "snips_high": snips.high,
        "ess": ess,
        "ess_share": ess / n if n else 0.0,
        "matched": matched,
        "n": n,
        "clipped_share": clipped_share,
    }


def _estimate_row(
    logged: pd.DataFrame, name: str, *, clip: float | None, n_resamples: int, seed: int
) -> dict[str, float]:
    try:
        result: OffPolicyEstimate = estimate(
            rewards=logged["reward"].to_numpy(),
            logging_propensity=logged["propensity"].to_numpy(),
            target_probability=logged[f"{_TARGET}{name}"].to_numpy(),
            clip=clip,
            n_resamples=n_resamples,
            seed=seed,
        )
    except ValueError:
        # The policy never takes a logged action: nothing to estimate from, which the table shows as NaN.
        nothing = Interval(np.nan, np.nan, np.nan)
        return _columns(ips=nothing, snips=nothing, ess=0.0, matched=0, n=len(logged), clipped_share=0.0)
    return _columns(
        ips=result.ips,
        snips=result.snips,
        ess=result.ess,
        matched=result.matched,
        n=result.n,
        clipped_share=result.clipped_share,
    )


def off_policy_table(
    logged: pd.DataFrame, *, clip: float | None = None, n_resamples: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """IPS and SNIPS of the completion rate with 95% intervals and ESS per policy of `logged_decisions`.

    The first row, `logged`, is what the logging policy achieved (the plain mean reward, ESS = n):
    the yardstick the other policies' estimates are read against.
    """
    reference = bootstrap_mean(logged["reward"].to_numpy(), n_resamples=n_resamples, seed=seed)
    n = len(logged)
    rows = {"logged": _columns(ips=reference, snips=reference, ess=float(n), matched=n, n=n, clipped_share=0.0)}
    for name in _policy_names(logged):
        rows[name] = _estimate_row(logged, name, clip=clip, n_resamples=n_resamples, seed=seed)
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "policy"
    return frame


def clipping_table(
    logged: pd.DataFrame,
    *,
    policy: str,
    clips: Sequence[float | None] = (None, 100.0, 20.0, 5.0, 2.0),
    n_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """One policy's IPS / SNIPS, intervals and ESS for each weight cap (None: no clipping).

    Capping weights trades variance (interval width, ESS) for bias: every capped row is undercounted,
    which pulls IPS down and SNIPS towards the rows the policy agrees with the logger on.
    """
    rows = {
        "none" if clip is None else f"{clip:g}": _estimate_row(
            logged, policy, clip=clip, n_resamples=n_resamples, seed=seed
        )
        for clip in clips
    }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "clip"
    frame["ips_width"] = frame["ips_high"] - frame["ips_low"]
    return frame


def weight_summary(logged: pd.DataFrame) -> pd.DataFrame:
    """Per policy: share of logged rows it matches, median positive and largest weight, top 1 % rows' weight share."""
    rows = {}
    for name in _policy_names(logged):
        weights = importance_weights(
            logging_propensity=logged["propensity"].to_numpy(), target_probability=logged[f"{_TARGET}{name}"].to_numpy()
        )
        positive = weights[weights > 0]
        rows[name] = {
            "matched_share": float(np.mean(weights > 0)),
            "median_positive": float(np.median(positive)) if len(positive) else np.nan,
            "max": float(weights.max()),
            "top_1pct_weight_share": _top_share(weights, 0.01),
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "policy"
    return frame


def _top_share(weights: np.ndarray, fraction: float) -> float:
    # How much of the total weight the heaviest rows carry: near 1 means a few rows decide the estimate.
    total = float(weights.sum())
    if total == 0:
        return float("nan")
    k = max(1, int(np.ceil(fraction * len(weights))))
    return float(np.sort(weights)[-k:].sum() / total)


# --- figures (matplotlib.figure.Figure, no pyplot: notebooks and servers stay free of global state) ---


class InlineFigure(Figure):
    """A Figure that Jupyter shows as a PNG when it is a cell's last expression.

    A bare Figure only prints its repr unless pyplot's inline backend was loaded; this needs neither
    pyplot nor `%matplotlib inline`, so the notebooks work the same in any front end or in nbclient.
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _figure(width: float, height: float, *, rows: int = 1) -> tuple[Figure, Any]:
    figure = InlineFigure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots(rows, 1, squeeze=True)


def engagement_heatmap(table: pd.DataFrame, *, value: str = "completion_rate") -> Figure:
    """A heatmap of `value` over the two index levels of an `engagement_by_segment` table, cells annotated with n."""
    if table.index.nlevels != 2:
        raise ValueError("the heatmap needs a table grouped by exactly two columns")
    grid = table[value].unstack(level=1)
    counts = table["served"].unstack(level=1).reindex(index=grid.index, columns=grid.columns)
    figure, axis = _figure(1.6 + 1.3 * grid.shape[1], 1.2 + 0.45 * grid.shape[0])
    image = axis.imshow(grid.to_numpy(dtype=float), aspect="auto", cmap="viridis")
    axis.set_xticks(range(grid.shape[1]), [str(c) for c in grid.columns])
    axis.set_yticks(range(grid.shape[0]), [str(i) for i in grid.index])
    axis.set_xlabel(str(table.index.names[1]))
    axis.set_ylabel(str(table.index.names[0]))
    for (i, j), rate in np.ndenumerate(grid.to_numpy(dtype=float)):
        if np.isfinite(rate):
            axis.text(
                j,
                i,
                f"{rate:.2f}\nn={int(counts.iat[i, j])}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if rate < np.nanmean(grid.to_numpy(dtype=float)) else "black",
            )
    figure.colorbar(image, ax=axis, label=value)
    axis.set_title(f"{value} by {table.index.names[0]} x {table.index.names[1]}")
    return figure


def daily_engagement_figure(table: pd.DataFrame, *, window: int = 7) -> Figure:
    """Served questions per day above, answer and completion rates (rolling `window`-day mean) below."""
    figure, (top, bottom) = _figure(8, 5, rows=2)
    days = pd.to_datetime(pd.Series(table.index))
    top.bar(days, table["served"].to_numpy(), color="#9bb7d4")
    top.set_ylabel("served per day")
    for column in ("answer_rate", "member_answer_rate", "completion_rate"):
        # Pooled rolling rates: a quiet day does not swing the line as much as a busy one.
        numerator = (table[column] * table["served"]).rolling(window, min_periods=1).sum()
        bottom.plot(days, (numerator / table["served"].rolling(window, min_periods=1).sum()).to_numpy(), label=column)
    bottom.set_ylabel(f"rate ({window}-day)")
    bottom.set_ylim(0, 1)
    bottom.legend(loc="lower right", fontsize=8)
    return figure


def answer_length_figure(answers: pd.DataFrame, *, by: str = "age_group") -> Figure:
    """Box plots of answer length per group of an `answers_frame` (outliers hidden; the table has the numbers)."""
    groups = [
        (str(name), group["answer_length"].dropna().to_numpy()) for name, group in answers.groupby(by, observed=True)
    ]
    figure, axis = _figure(1.5 + 1.2 * len(groups), 3.5)
    axis.boxplot([values for _, values in groups], tick_labels=[name for name, _ in groups], showfliers=False)
    axis.set_ylabel("answer length (characters)")
    axis.set_xlabel(by)
    return figure


def calibration_figure(table: pd.DataFrame) -> Figure:
    """Reliability diagram of a `calibration_table`: observed against predicted, with bin counts below."""
    figure, (top, bottom) = _figure(5, 5.5, rows=2)
    top.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
    top.plot(table["mean_predicted"], table["observed_rate"], marker="o", label="model")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_xlabel("mean predicted completion")
    top.set_ylabel("observed completion")
    top.legend(loc="upper left", fontsize=8)
    top.set_title(f"calibration (ECE {calibration_error(table):.3f})")
    bottom.bar(
        (table["lower"] + table["upper"]) / 2,
        table["count"],
        width=table["upper"] - table["lower"],
        color="#9bb7d4",
        edgecolor="white",
    )
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("predicted completion")
    bottom.set_ylabel("rows")
    return figure


def importance_figure(frame: pd.DataFrame, *, top: int = 15) -> Figure:
    """Horizontal bars of the `top` features' share of total gain (a `feature_importance_frame`)."""
    shown = frame.head(top)[::-1]
    figure, axis = _figure(6, 0.8 + 0.28 * len(shown))
    axis.barh([str(name) for name in shown.index], shown["share"].to_numpy(), color="#7a6ab5")
    axis.set_xlabel("share of total gain")
    return figure


def explanation_figure(frame: pd.DataFrame) -> Figure:
    """Signed bars of an `explain_decision` frame: what pushed this question's score up or down."""
    shown = frame[::-1]
    values = shown["contribution"].to_numpy(dtype=float)
    figure, axis = _figure(6, 0.8 + 0.3 * len(shown))
    axis.barh([str(name) for name in shown.index], values, color=np.where(values >= 0, "#5a9e6f", "#c0504d"))
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlabel("contribution to the raw score (log-odds)")
    axis.set_title(f"raw score {frame.attrs.get('raw_score', values.sum()):.2f}")
    return figure


def off_policy_figure(table: pd.DataFrame) -> Figure:
    """SNIPS and IPS per policy of an `off_policy_table` with 95% intervals, ESS written beside each."""
    figure, axis = _figure(7, 0.9 + 0.55 * len(table))
    positions = np.arange(len(table))
    for offset, name, color in ((-0.15, "snips", "#4c72b0"), (0.15, "ips", "#dd8452")):
        estimate_ = table[name].to_numpy(dtype=float)
        errors = np.vstack(
            [
                estimate_ - table[f"{name}_low"].to_numpy(dtype=float),
                table[f"{name}_high"].to_numpy(dtype=float) - estimate_,
            ]
        )
        axis.errorbar(estimate_, positions + offset, xerr=errors, fmt="o", capsize=3, color=color, label=name.upper())
    for position, (ess, n) in enumerate(zip(table["ess"], table["n"], strict=True)):
        axis.annotate(
            f"ESS {ess:.0f} / {n}",
            (1.0, position),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    axis.set_yticks(positions, [str(name) for name in table.index])
    axis.invert_yaxis()
    axis.set_xlabel("estimated completion rate")
    axis.legend(loc="lower right", fontsize=8)
    return figure

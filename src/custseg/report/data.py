"""Everything the report shows, derived from a finished run's files.

A run is the summary, the model and the table of segmented rows. :func:`run_from_result`
takes them from a segmentation still in memory (what ``custseg segment`` does);
:func:`load_run` reads them from a run folder's ``summary.json``, ``segments.csv``
and ``model.json`` (what ``custseg report DIR`` does). Both keep the same rows —
every row up to :data:`SAMPLE_ROWS`, beyond that a seeded sample stratified by
segment chosen from the segment labels alone — so both give the same report, byte
for byte. Figures per segment and per run (sizes, shares, means, z-scores,
stability, borderline shares) come from the summary and so from every row; only
the per-customer figures (distributions, box plots, correlations, maps, category
shares) use the sample, and their subtitles say so. Nothing here reads the
original input.

Privacy: only feature values and aggregates leave this module. ID, date and
free-text columns are never read into a chart; category shares fold every
category held by fewer than :data:`MIN_CATEGORY_COUNT` customers into "Other",
so a rare value (a name typed into a category column) cannot identify anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custseg.errors import InputError
from custseg.features.profiles import distinct_labels
from custseg.features.roles import NA_TOKENS, parse_numeric
from custseg.io import listed_files, read_json
from custseg.io.readers import read_table_text
from custseg.model import SegmentModel, load_model
from custseg.segmentation.sampling import canonical_order

if TYPE_CHECKING:
    from custseg.segmentation.result import SegmentationResult

__all__ = [
    "MAX_POINTS",
    "MIN_CATEGORY_COUNT",
    "SAMPLE_ROWS",
    "RunData",
    "box_stats",
    "category_shares",
    "correlations",
    "criteria_table",
    "histograms",
    "informative_features",
    "k_table",
    "load_run",
    "point_sample",
    "projection",
    "report_rows",
    "run_from_result",
    "sample_note",
    "segment_label",
    "sweep_table",
    "value_column",
    "value_shares",
]

#: At most about this many customers are drawn in a scatter plot: enough to show each
#: segment's shape and spread; more only overlap, and each drawn point costs the
#: chart's layout and rasterising time.
MAX_POINTS = 2000
#: The per-customer figures use at most about this many rows (a seeded sample
#: stratified by segment): enough that quartiles, correlations and shares agree with
#: all rows to the digits shown, and a report of 10 million rows costs what one of
#: 50,000 does.
SAMPLE_ROWS = 50_000
#: A segment keeps at least this many points in a sampled scatter (or all it has).
MIN_POINTS_PER_SEGMENT = 20
#: A box plot draws at most this many outliers per feature and segment.
MAX_OUTLIERS = 40
#: Categories held by fewer customers than this are shown together as "Other".
MIN_CATEGORY_COUNT = 5
_MAX_BINS = 30
REQUIRED_FILES = ("summary.json", "segments.csv", "model.json")


def segment_label(segment_id: int, name: str) -> str:
    """The label of a segment in legends: ``"2 · High income · High spending"``."""
    return name if segment_id < 0 else f"{segment_id} · {name}"


@dataclass
class RunData:
    """A finished run, read from its folder.

    Attributes
    ----------
    summary : dict
        ``summary.json``.
    table : DataFrame of shape (n_rows, n_columns)
        The rows the report uses (see :func:`report_rows`) of ``segments.csv``.
    model : SegmentModel
    numeric : list of str
        Numeric features used by the model, in model order.
    X : ndarray of shape (n_rows, len(numeric))
        Their values in original units; NaN where missing.
    labels : ndarray of shape (n_rows,)
        Segment id per row; ``-2`` where the row was left out of fitting.
    segments : list of dict
        ``id``, ``name``, ``label``, ``size``, ``share`` per segment, in id order
        (noise, id -1, last).
    extra_k : DataFrame or None
        ``k_selection.csv`` when present.
    rows_total : int
        Rows in the whole table (``table`` may be a sample of them).
    """

    summary: dict[str, Any]
    table: pd.DataFrame
    model: SegmentModel
    numeric: list[str]
    X: np.ndarray
    labels: np.ndarray
    segments: list[dict[str, Any]]
    extra_k: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    rows_total: int = 0

    @property
    def fitted_total(self) -> int:
        """Customers in segments over the whole table (noise included)."""
        fitted = self.summary.get("input", {}).get("rows_fitted")
        return int(fitted) if fitted is not None else int(self.fitted.sum())

    @property
    def sampled(self) -> bool:
        """True when the per-customer figures use a sample of the rows."""
        return len(self.table) < self.rows_total

    @property
    def fitted(self) -> np.ndarray:
        """Boolean mask of rows that belong to a segment (noise included)."""
        return self.labels > -2

    @property
    def seed(self) -> int:
        return int(self.summary.get("random_state", 0) or 0)

    @property
    def label_of(self) -> dict[int, str]:
        return {s["id"]: s["label"] for s in self.segments}


def _check_run_dir(run_dir: Path) -> set[str] | None:
    """Check the folder holds one complete run; the files its manifest lists (or None)."""
    if not run_dir.is_dir():
        raise InputError(
            f"run folder '{run_dir}' does not exist; pass the --out folder of a finished "
            "custseg segment run"
        )
    listed = listed_files(run_dir)
    missing = [name for name in REQUIRED_FILES if not (run_dir / name).is_file()]
    if missing:
        raise InputError(
            f"'{run_dir}' lacks {', '.join(missing)}; pass the --out folder of a finished "
            "custseg segment run (it writes summary.json, segments.csv and model.json)"
        )
    return listed


def _label_column(table: pd.DataFrame) -> str:
    # The pipeline suffixes its columns with _custseg when the input already has them.
    return "segment_custseg" if "segment_custseg" in table.columns else "segment"


def _parse_float(col: pd.Series) -> np.ndarray:
    text = col.astype(str).str.strip()
    values = pd.to_numeric(text.where(~text.isin(NA_TOKENS)), errors="coerce")
    return values.to_numpy(dtype="float64")


def report_rows(labels: np.ndarray, seed: int) -> np.ndarray:
    """The rows the report uses: all of them, or a seeded sample stratified by segment.

    Parameters
    ----------
    labels : ndarray of shape (n_rows,)
        Segment id per row (``-2`` where the row was left out of fitting).
    seed : int
        The run's ``random_state``.

    Returns
    -------
    ndarray of int
        Sorted row indices; every row when there are at most :data:`SAMPLE_ROWS`.
        Otherwise each segment keeps its share of the sample (at least
        ``MIN_POINTS_PER_SEGMENT`` rows, or all it has). Chosen from ``labels`` and
        ``seed`` only, so the run in memory and its files give the same rows.
    """
    n = len(labels)
    if n <= SAMPLE_ROWS:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    picked = []
    for seg in distinct_labels(labels):
        members = np.flatnonzero(labels == seg)
        quota = max(int(SAMPLE_ROWS * len(members) / n), min(len(members), MIN_POINTS_PER_SEGMENT))
        picked.append(rng.choice(members, size=min(quota, len(members)), replace=False))
    return np.sort(np.concatenate(picked))


def sample_note(run: RunData) -> str:
    """How many customers a per-customer figure uses, for chart subtitles."""
    if run.sampled:
        return f"a seeded sample of {len(run.table):,} of {run.rows_total:,} customers"
    return "all customers"


def _segment_list(summary: dict[str, Any]) -> list[dict[str, Any]]:
    segments = []
    for seg in sorted(summary["segments"], key=lambda s: (int(s["id"]) < 0, int(s["id"]))):
        sid = int(seg["id"])
        segments.append(
            {
                "id": sid,
                "name": str(seg["name"]),
                "label": segment_label(sid, str(seg["name"])),
                "size": int(seg["size"]),
                "share": float(seg["share"]),
            }
        )
    return segments


def _make_run(
    summary: dict[str, Any],
    model: SegmentModel,
    table: pd.DataFrame,
    all_labels: np.ndarray,
    extra_k: pd.DataFrame | None,
    source: str,
) -> RunData:
    """The report's view of a run: its rows cut to :func:`report_rows`, features parsed."""
    kinds = {f["name"]: f.get("kind", "numeric") for f in model.features}
    numeric = [f for f in summary["features"] if kinds.get(f, "numeric") == "numeric"]
    absent = [c for c in numeric if c not in table.columns]
    if absent:
        raise InputError(
            f"'{source}' lacks column(s) {', '.join(map(repr, absent))} named by "
            "summary.json; the files are not from the same run — rerun custseg segment"
        )
    rows = report_rows(all_labels, int(summary.get("random_state", 0) or 0))
    part = table.iloc[rows].reset_index(drop=True) if len(rows) < len(table) else table
    X = (
        # The pipeline's own parser: segments.csv keeps values as the input wrote them
        # (a decimal comma stays "1,5").
        np.column_stack([parse_numeric(part, c, source=source) for c in numeric])
        if numeric
        else np.empty((len(part), 0))
    )
    return RunData(
        summary,
        part,
        model,
        numeric,
        X,
        all_labels[rows],
        _segment_list(summary),
        extra_k,
        rows_total=len(table),
    )


def _labels_of(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_integer_dtype(column) or pd.api.types.is_float_dtype(column):
        # A run in memory holds its labels as numbers: no need to parse them as text,
        # nor to pass through floats (one pass over the rows, not three).
        return column.to_numpy(dtype="int64", na_value=-2)
    raw = _parse_float(column)
    return np.where(np.isnan(raw), -2, raw).astype("int64")


def load_run(run_dir: str | Path) -> RunData:
    """Read a finished run's ``summary.json``, ``segments.csv`` and ``model.json``.

    Raises
    ------
    InputError
        The folder or one of the files is missing, or the files do not belong
        together (a feature named in the summary is absent from ``segments.csv``).
    """
    run_dir = Path(run_dir)
    listed = _check_run_dir(run_dir)
    summary = read_json(run_dir / "summary.json", what="summary")
    if not isinstance(summary, dict) or "segments" not in summary or "features" not in summary:
        raise InputError(
            f"'{run_dir / 'summary.json'}' is not a custseg summary; rerun custseg segment"
        )
    model = load_model(run_dir / "model.json")
    table = read_table_text(run_dir / "segments.csv")
    label_col = _label_column(table)
    if label_col not in table.columns:
        raise InputError(
            f"'{run_dir / 'segments.csv'}' lacks column 'segment' named by summary.json; the "
            "files are not from the same run — rerun custseg segment"
        )
    extra_k = None
    # Only the run's own K table: a folder's manifest says which files belong to it.
    if (run_dir / "k_selection.csv").is_file() and (listed is None or "k_selection.csv" in listed):
        extra_k = read_table_text(run_dir / "k_selection.csv")
    labels = _labels_of(table[label_col])
    return _make_run(summary, model, table, labels, extra_k, str(run_dir / "segments.csv"))


def run_from_result(result: SegmentationResult) -> RunData:
    """The report's view of a segmentation still in memory (no file is read).

    Gives the same :class:`RunData` as :func:`load_run` on the folder the result
    was saved to, without reading ``segments.csv`` back.
    """
    table = result.table
    labels = _labels_of(table[_label_column(table)])
    extra_k = sweep_table(result.k_selection)
    return _make_run(result.summary, result.model, table, labels, extra_k, "segments.csv")


def sweep_table(k_selection: pd.DataFrame) -> pd.DataFrame | None:
    """A result's ``k_selection`` table as the report takes it: None when no K was tried."""
    return k_selection if len(k_selection) else None


# -- aggregates -------------------------------------------------------------------------
def _round(values: np.ndarray, digits: int = 4) -> list[float | None]:
    """Round to ``digits`` significant digits: enough to draw, lighter to embed."""
    out: list[float | None] = []
    for v in np.asarray(values, dtype="float64"):
        if not np.isfinite(v):
            out.append(None)
        elif v == 0:
            out.append(0.0)
        else:
            out.append(float(f"{v:.{digits}g}"))
    return out


def histograms(run: RunData) -> dict[str, list[dict[str, float | None]]]:
    """Per numeric feature: bins (``start``, ``end``, ``count``) over all observed values."""
    out = {}
    for j, f in enumerate(run.numeric):
        x = run.X[:, j]
        x = x[np.isfinite(x)]
        if not len(x):
            continue
        lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            edges = np.array([lo - 0.5, hi + 0.5])
        else:
            edges = np.histogram_bin_edges(x, bins="auto")
            if len(edges) > _MAX_BINS + 1:
                edges = np.histogram_bin_edges(x, bins=_MAX_BINS)
            if np.allclose(x, np.round(x)) and hi - lo <= _MAX_BINS:
                edges = np.arange(np.floor(lo), np.ceil(hi) + 2) - 0.5
        counts, edges = np.histogram(x, bins=edges)
        starts, ends = _round(edges[:-1], 6), _round(edges[1:], 6)
        out[f] = [
            {"start": s, "end": e, "count": int(c)}
            for s, e, c in zip(starts, ends, counts, strict=True)
        ]
    return out


def correlations(run: RunData) -> pd.DataFrame:
    """Pearson correlation between numeric features (pairwise complete), long format."""
    frame = pd.DataFrame(run.X, columns=run.numeric)
    corr = frame.corr(method="pearson", min_periods=3)
    rows = [
        {"a": a, "b": b, "r": _round(np.array([corr.loc[a, b]]), 3)[0]}
        for a in run.numeric
        for b in run.numeric
    ]
    return pd.DataFrame(rows)


def informative_features(run: RunData, n: int = 2) -> list[tuple[str, float]]:
    """The ``n`` numeric features that separate the segments most.

    The score is the between-segment share of the feature's variance (η²),
    ``sum over segments of share * z**2`` from the summary's z-scores.
    """
    scores = []
    for f in run.numeric:
        eta2 = 0.0
        for seg in run.summary["segments"]:
            z = (seg.get("z") or {}).get(f)
            if z is not None and int(seg["id"]) >= 0:
                eta2 += float(seg["share"]) * float(z) ** 2
        scores.append((f, min(eta2, 1.0)))
    order = sorted(range(len(scores)), key=lambda i: (-scores[i][1], i))[:n]
    return [scores[i] for i in sorted(order, key=lambda i: -scores[i][1])]


def point_sample(run: RunData, max_points: int | None = None) -> np.ndarray:
    """Row indices to draw in a scatter plot: all fitted rows, or a seeded sample.

    The sample is stratified by segment — each segment keeps its share of the
    points but at least ``MIN_POINTS_PER_SEGMENT`` (or all it has) — so small
    segments stay visible. Which customers are drawn depends on their values and
    the seed, not on where they sit in the table. Indices are sorted.
    """
    max_points = MAX_POINTS if max_points is None else max_points
    rows = np.flatnonzero(run.fitted)
    if len(rows) <= max_points:
        return rows
    # Rows in a seeded order of their values: the first of a segment are a uniform sample.
    rows = rows[canonical_order(_drawn_values(run, rows), random_state=run.seed)]
    picked = []
    for seg in np.unique(run.labels[rows]):
        members = rows[run.labels[rows] == seg]
        quota = max(
            int(max_points * len(members) / len(rows)),
            min(len(members), MIN_POINTS_PER_SEGMENT),
        )
        picked.append(members[:quota])
    return np.sort(np.concatenate(picked))


def _drawn_values(run: RunData, rows: np.ndarray) -> np.ndarray:
    """What a drawn point shows: its feature values and its segment."""
    return np.column_stack([run.X[rows], run.labels[rows]])


def _noise_first(run: RunData, rows: np.ndarray) -> np.ndarray:
    """The drawing order: noise customers (segment -1) first, beneath the segments.

    Within that, an order fixed by the customers' values: points that overlap are
    drawn in the same order whatever the order of the table's rows.
    """
    rows = rows[canonical_order(_drawn_values(run, rows))]
    return rows[np.argsort(run.labels[rows] >= 0, kind="stable")]


def _imputed(run: RunData) -> np.ndarray:
    """Numeric features with missing values filled as the model fills them."""
    X = run.X.copy()
    names = run.model.feature_names
    for j, f in enumerate(run.numeric):
        if f in names:
            fill = float(run.model.impute_values[names.index(f)])
        else:
            fill = float(np.nanmedian(X[:, j])) if np.isfinite(X[:, j]).any() else 0.0
        X[np.isnan(X[:, j]), j] = fill
    return X


def _scaled(run: RunData, X: np.ndarray) -> np.ndarray:
    """Scale as the model does when it can; otherwise standardise."""
    scaler = run.model.scaler
    if run.numeric == run.model.feature_names and len(scaler.center) == X.shape[1]:
        return scaler.transform(X)
    mean, std = X.mean(axis=0), X.std(axis=0)
    return (X - mean) / np.where(std == 0, 1.0, std)


@dataclass
class Projection:
    """A 2-D PCA map of the fitted customers.

    Attributes
    ----------
    points : DataFrame
        ``x``, ``y``, ``segment`` and the numeric features for the drawn rows.
    centres : DataFrame
        ``x``, ``y``, ``segment`` per segment: the segment mean, projected.
    explained : tuple of float
        Share of the (scaled) variance on each axis.
    drawn, total : int
        Points drawn and customers in segments.
    """

    points: pd.DataFrame
    centres: pd.DataFrame
    explained: tuple[float, float]
    drawn: int
    total: int


def projection(run: RunData, sample: np.ndarray) -> Projection | None:
    """PCA of the scaled numeric features (None with fewer than two features)."""
    from sklearn.decomposition import PCA

    fitted = run.fitted
    if len(run.numeric) < 2 or fitted.sum() < 3:
        return None
    Z = _scaled(run, _imputed(run))
    pca = PCA(n_components=2, svd_solver="full").fit(Z[fitted])
    P = pca.transform(Z)
    sample = _noise_first(run, sample)
    points = pd.DataFrame(
        {
            "x": _round(P[sample, 0]),
            "y": _round(P[sample, 1]),
            "segment": [run.label_of[int(s)] for s in run.labels[sample]],
        }
    )
    centres = []
    for seg in run.segments:
        members = run.labels == seg["id"]
        if members.any() and seg["id"] >= 0:
            c = P[members].mean(axis=0)
            centres.append(
                {
                    "x": _round(c[:1])[0],
                    "y": _round(c[1:])[0],
                    "segment": seg["label"],
                    "id": str(seg["id"]),
                }
            )
    ratio = pca.explained_variance_ratio_
    return Projection(
        points,
        pd.DataFrame(centres),
        (float(ratio[0]), float(ratio[1])),
        len(sample),
        run.fitted_total,
    )


def feature_points(run: RunData, sample: np.ndarray, features: list[str]) -> pd.DataFrame:
    """Observed values of ``features`` for the drawn rows (rows missing one are left out)."""
    cols = [run.numeric.index(f) for f in features]
    sample = _noise_first(run, sample)
    data: dict[str, list[float | None] | list[str]] = {
        f"f{i}": _round(run.X[sample, j]) for i, j in enumerate(cols)
    }
    data["segment"] = [run.label_of[int(s)] for s in run.labels[sample]]
    frame = pd.DataFrame(data)
    return frame.dropna().reset_index(drop=True)


def segment_means(run: RunData, features: list[str]) -> pd.DataFrame:
    """Per segment (noise excluded): the mean of each feature, keys ``f0``, ``f1``, ..."""
    rows = []
    for seg in run.summary["segments"]:
        if int(seg["id"]) < 0:
            continue
        row: dict[str, float | str | None] = {
            f"f{i}": _round(np.array([seg["mean"][f]]))[0] for i, f in enumerate(features)
        }
        row["segment"] = run.label_of[int(seg["id"])]
        row["id"] = str(int(seg["id"]))
        rows.append(row)
    return pd.DataFrame(rows)


def box_stats(run: RunData) -> pd.DataFrame:
    """Tukey box-plot numbers per numeric feature and segment.

    Columns: ``feature``, ``segment``, ``lower`` and ``upper`` (the furthest values
    within 1.5 IQR of the box), ``q1``, ``median``, ``q3``, ``mean``, ``n``.
    """
    rows = []
    for j, f in enumerate(run.numeric):
        for seg in run.segments:
            x = run.X[run.labels == seg["id"], j]
            x = x[np.isfinite(x)]
            if not len(x):
                continue
            q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
            iqr = q3 - q1
            inside = x[(x >= q1 - 1.5 * iqr) & (x <= q3 + 1.5 * iqr)]
            lo, hi, mean = _round(np.array([inside.min(), inside.max(), x.mean()]))
            q1, med, q3 = _round(np.array([q1, med, q3]))
            rows.append(
                {
                    "feature": f,
                    "segment": seg["label"],
                    "lower": lo,
                    "q1": q1,
                    "median": med,
                    "q3": q3,
                    "upper": hi,
                    "mean": mean,
                    "n": len(x),
                }
            )
    return pd.DataFrame(rows)


def box_outliers(run: RunData, per_segment: int = MAX_OUTLIERS) -> pd.DataFrame:
    """Values beyond the whiskers of :func:`box_stats`, per feature and segment.

    At most ``per_segment`` per feature and segment, the furthest from the median
    first, so a long tail cannot flood the chart. Columns: ``feature``, ``segment``,
    ``value``.
    """
    rows = []
    for j, f in enumerate(run.numeric):
        for seg in run.segments:
            x = run.X[run.labels == seg["id"], j]
            x = np.sort(x[np.isfinite(x)])
            if not len(x):
                continue
            q1, med, q3 = np.quantile(x, [0.25, 0.5, 0.75])
            iqr = q3 - q1
            out = x[(x < q1 - 1.5 * iqr) | (x > q3 + 1.5 * iqr)]
            out = out[np.argsort(-np.abs(out - med), kind="stable")][:per_segment]
            rows += [
                {"feature": f, "segment": seg["label"], "value": v} for v in _round(np.sort(out))
            ]
    return pd.DataFrame(rows, columns=["feature", "segment", "value"])


def _categorical_columns(run: RunData) -> list[str]:
    used = set(run.summary["features"])
    # A yes/no flag left out of the features (Churn) is profiled like a category.
    profiled = ("categorical", "flag")
    cols = []
    for info in run.summary.get("columns", []):
        name = info.get("name")
        if name in run.table.columns and (
            info.get("role") in profiled or (name in used and name not in run.numeric)
        ):
            cols.append(name)
    return cols


def category_shares(run: RunData) -> pd.DataFrame:
    """Share of each category per segment and overall, for categorical columns.

    Columns: ``column``, ``category``, ``segment`` (a segment label or ``"All
    customers"``), ``share``, ``used`` (whether the column is a model feature).
    Categories with fewer than :data:`MIN_CATEGORY_COUNT` customers overall are
    shown as ``"Other"``; missing cells as ``"(missing)"``.
    """
    rows = []
    used = set(run.summary["features"])
    fitted = run.fitted
    for col in _categorical_columns(run):
        text = run.table[col].astype(str).str.strip()
        text = text.where(~text.isin(NA_TOKENS), "(missing)")[fitted]
        counts = text.value_counts()
        rare = set(counts[counts < MIN_CATEGORY_COUNT].index) - {"(missing)"}
        text = text.where(~text.isin(rare), "Other")
        labels = run.labels[fitted]
        groups = [("All customers", np.ones(len(text), dtype=bool))] + [
            (seg["label"], labels == seg["id"]) for seg in run.segments
        ]
        categories = sorted(text.unique(), key=lambda c: (c in ("Other", "(missing)"), c))
        for name, mask in groups:
            part = text[mask]
            if not len(part):
                continue
            shares = part.value_counts(normalize=True)
            for cat in categories:
                rows.append(
                    {
                        "column": col,
                        "category": cat,
                        "segment": name,
                        "share": _round(np.array([shares.get(cat, 0.0)]), 3)[0],
                        "used": col in used,
                    }
                )
    return pd.DataFrame(rows, columns=["column", "category", "segment", "share", "used"])


#: Words that name money in a column, strongest claim first: a lifetime value, then
#: spend or revenue, then an amount or balance.
_VALUE_WORDS = (
    r"\b(predicted clv|clv|ltv|lifetime value)\b",
    r"\b(monetary|revenue|revenues|sales|spend|spent|net spend|turnover)\b",
    r"\b(amount|amt|balance|bal|profit|value)\b",
)
#: Words that say a column is not money even when it names one ("Spending Score (1-100)").
_NOT_VALUE = re.compile(
    r"score|rank|index|rating|ratio|percent|%|\(1-100\)|count|\bct\b|chng|change|"
    r"utili|\blog\b|limit"
)


@dataclass(frozen=True)
class ValueShares:
    """Each segment's share of a value column's total (e.g. of spend).

    Attributes
    ----------
    column : str
        The value column.
    shares : dict of int to float
        Segment id → its share of the column's total over the segmented customers.
    exact : bool
        True when computed from every row (a feature's mean times the segment's size,
        or a table the report holds whole); False when estimated from the sample.
    """

    column: str
    shares: dict[int, float]
    exact: bool


def _words(name: str) -> str:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name).lower()
    return " ".join(re.sub(r"[_\-]+", " ", spaced).split())


def value_column(run: RunData) -> str | None:
    """The table's money column (spend, revenue, balance, lifetime value), if it has one.

    A numeric column qualifies by a word in its name (see ``_VALUE_WORDS``), unless
    the name marks a score, ratio, count or logarithm; its values must not be negative.
    """
    numeric = [c["name"] for c in run.summary.get("columns", []) if c.get("role") == "numeric"]
    candidates = list(dict.fromkeys([*run.numeric, *numeric]))
    for pattern in _VALUE_WORDS:
        for name in candidates:
            words = _words(name)
            named = re.search(pattern, words) and not _NOT_VALUE.search(words)
            if named and name in run.table.columns:
                values = _parse_float(run.table[name])
                if np.isfinite(values).any() and np.nanmin(values) >= 0:
                    return name
    return None


def value_shares(run: RunData) -> ValueShares | None:
    """Each segment's share of the value column's total, or None without one."""
    column = value_column(run)
    if column is None:
        return None
    segs = [s for s in run.summary["segments"] if int(s["id"]) >= 0]
    # Summary values: numbers, or None where the column is not a feature.
    means: list[Any] = [(s.get("mean") or {}).get(column) for s in segs]
    exact = all(m is not None for m in means)
    if not exact:
        # A column that is not a feature: its mean per segment over the rows held.
        values = _parse_float(run.table[column])
        means = []
        for s in segs:
            x = values[run.labels == int(s["id"])]
            x = x[np.isfinite(x)]
            means.append(float(x.mean()) if len(x) else 0.0)
        exact = not run.sampled
    totals = {int(s["id"]): float(m) * int(s["size"]) for s, m in zip(segs, means, strict=True)}
    grand = sum(totals.values())
    if not grand > 0:
        return None
    return ValueShares(column, {k: v / grand for k, v in totals.items()}, exact)


def k_table(run: RunData) -> pd.DataFrame:
    """One row per K tried, with every criterion found in the summary or k_selection.csv."""
    return criteria_table(run.summary, run.extra_k)


def criteria_table(summary: dict[str, Any], extra: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`k_table` of a run with ``summary`` and ``k_selection.csv`` ``extra``."""
    table = pd.DataFrame(summary.get("k_selection", {}).get("table") or [])
    if extra is not None and "k" in extra.columns:
        extra = extra.apply(lambda c: pd.to_numeric(c, errors="coerce"))
        extra = extra.dropna(subset=["k"])
        if table.empty:
            table = extra
        else:
            new = [c for c in extra.columns if c not in table.columns]
            if new:
                table = table.merge(extra[["k", *new]], on="k", how="left")
    if table.empty or "k" not in table.columns:
        return pd.DataFrame()
    numeric = table.apply(lambda c: pd.to_numeric(c, errors="coerce"))
    numeric = numeric.loc[:, numeric.notna().any()]
    return numeric.sort_values("k").reset_index(drop=True)

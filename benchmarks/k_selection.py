"""How well does custseg choose K? Labelled data sets with a known number of groups.

Two suites:

* **tuning** — the 66 labelled benchmark sets in ``../shared/data/k-tuning``
  (Gagolewski's clustering benchmarks: fcps, g2mg, graves, h2mg, other, sipu, uci,
  wut; see the README there), standardised as ``custseg segment`` does. Twenty
  of them are not convex (rings, spirals, worms, frames, crossings, see
  :data:`NOT_CONVEX`): no centroid method can recover their groups, so they are
  reported apart.
* **synthetic** — seeded Gaussian blobs with known K (2-12 groups, 2-10
  dimensions, three separation levels, imbalance, anisotropy, noise points),
  scikit-learn's wine, iris, breast cancer and digits, and uniform noise and
  single Gaussians (no structure).

For every data set the K-choice computations run once and are cached: the
sweep over K = 2..``--k-max`` on a seeded uniform sample of at most 4,000 rows
(:func:`custseg.segmentation.sampling.uniform_sample`), the per-customer
silhouettes, the gap statistic, and the resampling criteria on the first 1,000
rows of that sample (:mod:`custseg.segmentation.resampling`). Every criterion's
own vote and every candidate rule are then applied to the cached figures:

* exact-K and within-one hits per criterion and per rule, on the tuning suite
  (all, convex, not convex) and the synthetic sets;
* **cross-validation over data sets**: leave one group of data sets out (a
  battery of the tuning suite, or a separation level of the synthetic suite),
  choose among the candidate rules and their thresholds the one with the most
  exact hits on the other groups, count its hits on the left-out group;
* the time per data set of what the rule needs (sample, sweep, silhouettes,
  resampling) and of the gap statistic.

Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/k_selection.py --cache /tmp/kbench
    .venv/bin/python benchmarks/k_selection.py --quick               # smoke, a minute

``--csv FILE`` writes one row per data set with every vote.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.metrics import adjusted_rand_score

from custseg.segmentation.choose_k import (
    SUBSAMPLE_AGREEMENT,
    SWEEP_SAMPLE,
    combine_votes,
    criterion_votes,
    gap_statistic,
    judge_structure,
    representative_sample,
    resampling_criteria,
    resampling_repeats,
    sweep_k,
)
from custseg.segmentation.k_rule import COMES_BACK, NOISE_SE, paired_standard_errors, pick_k
from custseg.segmentation.quality import silhouette_rows
from custseg.segmentation.sampling import uniform_sample

TUNING_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "k-tuning"
#: Groups that are not convex: one surrounds, crosses or interlocks with another.
NOT_CONVEX = frozenset(
    {
        "fcps/chainlink",  # two interlocked rings
        "graves/parabolic",  # two interleaved arcs
        "graves/ring",  # concentric rings
        "graves/ring_noisy",
        "graves/ring_outliers",
        "graves/zigzag_noisy",  # a zigzag line around small blobs
        "graves/zigzag_outliers",
        "other/chameleon_t4_8k",  # worms and letters in noise
        "other/chameleon_t5_8k",
        "other/chameleon_t7_10k",
        "other/chameleon_t8_8k",
        "other/square",  # a frame around a rectangle
        "sipu/jain",  # two moons
        "wut/cross",  # two crossing lines
        "wut/isolation",  # concentric rings
        "wut/labirynth",  # a maze
        "wut/mk2",  # spirals
        "wut/stripes",  # interleaved combs
        "wut/windows",  # a frame around four squares
        "wut/z1",  # interlocking ellipses
    }
)
SEPARATIONS = {"well": 7.0, "moderate": 4.5, "close": 3.0}
#: The draws of the benchmark (sample, sweep, resampling), fixed as in the product.
SEED = 0
SINGLE = (
    "elbow",
    "silhouette",
    "calinski_harabasz",
    "davies_bouldin",
    "gap",
    "prediction_strength",
    "instability",
    "subsample_stability",
)


@dataclass
class Case:
    name: str
    group: str  # a tuning battery, or well / moderate / close / real / uniform / gaussian
    suite: str  # tuning / synthetic
    X: np.ndarray
    y: np.ndarray | None  # None for no-structure data; labels < 0 are noise points
    k: int

    @property
    def convex(self) -> bool:
        return self.name not in NOT_CONVEX


def _standardise(X: np.ndarray) -> np.ndarray:
    """custseg's default scaling: constant columns dropped, the rest z-scored."""
    X = X[:, X.std(axis=0) > 0]
    return (X - X.mean(axis=0)) / X.std(axis=0)


# -- the suites -------------------------------------------------------------------------
def _read_matrix(path: Path) -> np.ndarray:
    with gzip.open(path, "rt") as handle:
        return np.loadtxt(handle, ndmin=2)


def tuning_suite(root: Path, names: list[str] | None = None) -> list[Case]:
    """The labelled sets of ``root`` (``battery/NAME.data.gz`` + ``NAME.labels0.gz``)."""
    cases = []
    for data in sorted(root.glob("*/*.data.gz")):
        name = str(data.relative_to(root)).removesuffix(".data.gz")
        if names is not None and name not in names:
            continue
        labels = _read_matrix(data.with_name(data.name.replace(".data.gz", ".labels0.gz")))
        y = labels[:, 0].astype(int) - 1  # upstream 0 = noise → -1; groups 0..k-1
        k = len(np.unique(y[y >= 0]))
        cases.append(
            Case(name, name.split("/")[0], "tuning", _standardise(_read_matrix(data)), y, k)
        )
    return cases


def _centres(k: int, d: int, min_dist: float, rng: np.random.Generator) -> np.ndarray:
    """k centres at least ``min_dist`` apart (in units of the clusters' sd)."""
    box = min_dist * k ** (1 / d) * 1.5
    for _ in range(200):
        centres = [rng.uniform(-box, box, d)]
        for _ in range(5000):
            c = rng.uniform(-box, box, d)
            if min(np.linalg.norm(c - o) for o in centres) >= min_dist:
                centres.append(c)
                if len(centres) == k:
                    return np.array(centres)
        box *= 1.2
    raise RuntimeError("could not place centres")


def synthetic(i: int, separation: str, rng: np.random.Generator, quick: bool) -> Case:
    k = int(rng.integers(2, 7 if quick else 13))
    d = int(rng.integers(2, 11))
    n = int(np.exp(rng.uniform(np.log(200), np.log(2000 if quick else 20000))))
    n = max(n, 20 * k)
    imbalance = rng.choice([1.0, 3.0, 10.0])  # largest / smallest group
    weights = np.exp(rng.uniform(0, np.log(imbalance), k))
    sizes = np.maximum(10, np.round(n * weights / weights.sum()).astype(int))
    anisotropic = rng.random() < 0.4
    noise_share = rng.choice([0.0, 0.0, 0.02, 0.05])
    centres = _centres(k, d, SEPARATIONS[separation], rng)
    parts, labels = [], []
    for j in range(k):
        Z = rng.standard_normal((sizes[j], d))
        if anisotropic:  # stretch up to 2.5x along random axes, keeping total sd ~1
            A = np.linalg.qr(rng.standard_normal((d, d)))[0] @ np.diag(rng.uniform(0.6, 1.5, d))
            Z = Z @ A
        parts.append(Z + centres[j])
        labels.append(np.full(sizes[j], j))
    X = np.vstack(parts)
    y = np.concatenate(labels)
    n_noise = round(float(noise_share) * len(X))
    if n_noise:
        lo, hi = X.min(axis=0), X.max(axis=0)
        X = np.vstack([X, rng.uniform(lo, hi, (n_noise, d))])
        y = np.concatenate([y, np.full(n_noise, -1)])
    name = (
        f"{separation}-{i:03d} k={k} d={d} n={len(X)} imb={imbalance:g}"
        f"{' aniso' if anisotropic else ''}{f' noise={noise_share:.0%}' if n_noise else ''}"
    )
    return Case(name, separation, "synthetic", _standardise(X), y, k)


def synthetic_suite(quick: bool, seed: int = 2024, scale: float = 1.0) -> list[Case]:
    """Blobs with known K, scikit-learn's labelled sets, and data without structure."""
    rng = np.random.default_rng(seed)
    counts = (
        {"well": 4, "moderate": 3, "close": 2}
        if quick
        else {"well": 50, "moderate": 35, "close": 25}
    )
    counts = {sep: max(1, round(n * scale)) for sep, n in counts.items()}
    cases: list[Case] = []
    for sep, count in counts.items():
        cases += [synthetic(i, sep, rng, quick) for i in range(count)]
    real = [("wine", load_wine), ("iris", load_iris)]
    if not quick:
        real += [("breast_cancer", load_breast_cancer), ("digits", load_digits)]
    for name, loader in real:
        data = loader()
        X, y = _standardise(data.data.astype(float)), data.target
        cases.append(Case(name, "real", "synthetic", X, y, len(np.unique(y))))
    n_null = 3 if quick else 20
    for group, count in (("uniform", n_null), ("gaussian", n_null // 2)):
        for i in range(count):
            d = int(rng.integers(1, 11))
            n = int(np.exp(rng.uniform(np.log(200), np.log(5000))))
            X = rng.uniform(size=(n, d)) if group == "uniform" else rng.standard_normal((n, d))
            cases.append(
                Case(f"{group}-{i:02d} d={d} n={n}", group, "synthetic", _standardise(X), None, 1)
            )
    return cases


# -- the computations, once per data set ------------------------------------------------
def measure(case: Case, k_max: int, cache: Path | None) -> dict:
    """Every figure the criteria and rules need, and the time each part took (cached)."""
    key = hashlib.sha256(f"{case.suite}:{case.name}:{k_max}:{SEED}".encode()).hexdigest()[:16]
    path = cache / f"{key}.json" if cache else None
    if path is not None and path.exists():
        record = {**json.loads(path.read_text()), "per_row": np.load(path.with_suffix(".npy"))}
    else:
        record = _sweep_record(case, k_max)
        if path is not None:
            np.save(path.with_suffix(".npy"), record["per_row"])
            path.write_text(json.dumps({k: v for k, v in record.items() if k != "per_row"}))
    repeats = resampling_repeats(min(len(case.X), SWEEP_SAMPLE))
    draws_path = cache / f"{key}.resampling-f32-{repeats}.npz" if cache else None
    if draws_path is not None and draws_path.exists():
        with np.load(draws_path) as saved:
            record["draws"] = {name: saved[name] for name in saved.files if name != "seconds"}
            record["times"]["resampling"] = float(saved["seconds"])
    else:
        t0 = time.perf_counter()
        Xs = case.X[uniform_sample(case.X, SWEEP_SAMPLE, random_state=SEED)]
        scores = resampling_criteria(Xs, list(range(2, k_max + 1)))
        record["times"]["resampling"] = time.perf_counter() - t0
        record["draws"] = scores.draws
        if draws_path is not None:
            np.savez(draws_path, seconds=record["times"]["resampling"], **scores.draws)
    return record


def _sweep_record(case: Case, k_max: int) -> dict:
    ks = list(range(2, k_max + 1))
    times = {}
    t0 = time.perf_counter()
    rows = uniform_sample(case.X, SWEEP_SAMPLE, random_state=SEED)
    Xs = case.X[rows]
    labels: dict[int, np.ndarray] = {}
    table = sweep_k(Xs, ks, random_state=SEED, gap=False, labels_out=labels)
    times["sweep"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    per_row = silhouette_rows(Xs, [labels[k] for k in ks])
    times["silhouettes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    gap = gap_statistic(Xs[:1000], list(range(1, k_max + 2)), random_state=SEED)
    times["gap"] = time.perf_counter() - t0
    return {
        "table": table.to_dict(orient="list"),
        "total_inertia": table.attrs["total_inertia"],
        "per_row": per_row,
        "gap": gap.to_dict(orient="list"),
        "aris": _aris(case, rows, labels),
        "rank_vote": _rank_vote(case, k_max),
        "times": times,
        "rows": len(Xs),
    }


def _aris(case: Case, rows: np.ndarray, labels: dict[int, np.ndarray]) -> dict[int, float]:
    if case.y is None:
        return {}
    truth = case.y[rows]
    keep = truth >= 0  # noise points left out
    return {int(k): float(adjusted_rand_score(truth[keep], lab[keep])) for k, lab in labels.items()}


def _rank_vote(case: Case, k_max: int) -> int:
    """The rank vote of Calinski-Harabasz and Davies-Bouldin (the rule until now), as it ran."""
    rows = representative_sample(case.X, SWEEP_SAMPLE, random_state=42)
    table = sweep_k(case.X[rows], list(range(2, k_max + 1)), random_state=42)
    chosen, _, _ = combine_votes(criterion_votes(table), table)
    return int(chosen)


# -- criteria and rules on the cached figures -------------------------------------------
@dataclass
class Figures:
    ks: list[int]
    table: pd.DataFrame
    draws: dict[str, np.ndarray]
    per_row: np.ndarray
    gap: pd.DataFrame
    total_inertia: float

    @classmethod
    def of(cls, record: dict) -> Figures:
        table = pd.DataFrame(record["table"])
        return cls(
            ks=[int(k) for k in table["k"]],
            table=table,
            draws=record["draws"],
            per_row=np.asarray(record["per_row"], dtype=float),
            gap=pd.DataFrame(record["gap"]),
            total_inertia=record["total_inertia"],
        )

    def column(self, name: str) -> np.ndarray:
        if name in self.draws:
            return np.nanmean(self.draws[name], axis=1)
        return self.table[name].to_numpy(dtype=float)


def single_votes(fig: Figures) -> dict[str, int | None]:
    """Each criterion's own preferred K, as its authors read it."""
    table = fig.table.copy()
    table.attrs["total_inertia"] = fig.total_inertia
    table.attrs["gap_full"] = fig.gap.to_dict(orient="list")
    votes = criterion_votes(table)
    ks = np.array(fig.ks)
    strength = fig.column("prediction_strength")
    passing = ks[strength >= COMES_BACK]
    votes["prediction_strength"] = int(passing.max()) if len(passing) else 1
    votes["instability"] = int(ks[np.nanargmin(fig.column("instability"))])
    agree = fig.column("subsample_stability")
    stable = ks[agree >= SUBSAMPLE_AGREEMENT]
    votes["subsample_stability"] = int(stable.max()) if len(stable) else int(ks[np.argmax(agree)])
    return votes


def the_rule(fig: Figures) -> int:
    """custseg's rule, :func:`custseg.segmentation.k_rule.pick_k`."""
    return pick_k(
        fig.ks,
        fig.column("silhouette"),
        fig.draws["prediction_strength"],
        calinski_harabasz=fig.column("calinski_harabasz"),
        silhouette_per_row=fig.per_row,
    ).k


def _gate(fig: Figures, threshold: float, separation: str) -> int:
    """Among the K whose prediction strength reaches ``threshold``, the best separated."""
    strength = fig.column("prediction_strength")
    passing = strength >= threshold
    if not passing.any():
        return fig.ks[int(np.nanargmax(strength))]
    return fig.ks[int(np.nanargmax(np.where(passing, fig.column(separation), -np.inf)))]


def _product(fig: Figures, preference: bool = True) -> int:
    """Silhouette × prediction strength, highest; a smaller K within one standard error
    of it preferred when ``preference`` (the rule of custseg before the threshold)."""
    separation = np.clip(np.nan_to_num(fig.column("silhouette")), 0, None)
    draws = fig.draws["prediction_strength"]
    strength = np.nan_to_num(fig.column("prediction_strength"))
    scores = separation * strength
    best = int(np.argmax(scores))
    if not preference:
        return fig.ks[best]
    variance = paired_standard_errors(np.nan_to_num(separation[:, None] * draws), best) ** 2
    variance += (strength * paired_standard_errors(fig.per_row, best)) ** 2
    near = np.flatnonzero(scores >= scores[best] - NOISE_SE * np.sqrt(variance))
    return fig.ks[int(near[0])]


def _bare_gate(fig: Figures) -> int:
    """The rule with "comes back" read without the noise: prediction strength >= 0.8,
    best silhouette, a smaller K that comes back within one standard error preferred."""
    strength = fig.column("prediction_strength")
    passing = strength >= COMES_BACK
    if not passing.any():
        return _product(fig)  # what the rule does when no K comes back
    scores = np.where(passing, np.clip(np.nan_to_num(fig.column("silhouette")), 0, None), np.nan)
    best = int(np.nanargmax(scores))
    se = paired_standard_errors(fig.per_row, best)
    near = np.flatnonzero(np.nan_to_num(scores, nan=-np.inf) >= scores[best] - NOISE_SE * se)
    return fig.ks[int(near[0])]


def candidates() -> dict[str, Callable[[Figures], int]]:
    """The rules cross-validation chooses among, in order of preference on a tie."""
    out: dict[str, Callable[[Figures], int]] = {
        "strength + SE >= 0.8, silhouette, 1-SE (custseg)": the_rule,
        "strength >= 0.8, silhouette, 1-SE": _bare_gate,
        "silhouette x strength, 1-SE": _product,
        "silhouette x strength, best": lambda f: _product(f, preference=False),
    }
    for separation in ("silhouette", "calinski_harabasz"):
        for threshold in (0.8, 0.75, 0.85, 0.7, 0.9):
            name = f"strength >= {threshold:g}, best {separation}"
            out[name] = lambda f, t=threshold, s=separation: _gate(f, t, s)
    out["rank vote CH+DB"] = lambda f: -1  # filled from the record, see evaluate()
    return out


def evaluate(cases: list[Case], records: list[dict]) -> pd.DataFrame:
    rows = []
    rules = candidates()
    for case, rec in zip(cases, records, strict=True):
        fig = Figures.of(rec)
        votes = single_votes(fig)
        row: dict = {
            "name": case.name,
            "suite": case.suite,
            "group": case.group,
            "convex": case.convex,
            "k": case.k,
            "rows": rec["rows"],
            **{c: votes.get(c) for c in SINGLE},
            "always 2": 2,
            "custseg": the_rule(fig),
        }
        for name, rule in rules.items():
            row[name] = rule(fig)
        row["rank vote CH+DB"] = rec["rank_vote"]
        row["structure"] = _structure(fig, row["custseg"])
        times = rec["times"]
        row["seconds"] = times["sweep"] + times["silhouettes"] + times["resampling"]
        row["gap_seconds"] = times["gap"]
        aris = {int(k): v for k, v in rec["aris"].items()}
        row["ari"] = aris.get(row["custseg"], 0.0)
        rows.append(row)
    return pd.DataFrame(rows)


def _structure(fig: Figures, chosen: int) -> str:
    table = fig.table.copy()
    table.attrs["gap_full"] = fig.gap.to_dict(orient="list")
    votes = criterion_votes(table)
    return judge_structure(votes, table, chosen, agreement=0)[0]


def cross_validate(frame: pd.DataFrame) -> tuple[dict[str, int], dict[str, int], list[str]]:
    """Leave one group out: the rule chosen on the other groups, scored on the left-out one.

    Returns the exact hits and the number of sets per suite, and each fold's pick.
    """
    known = frame[frame["k"] >= 2]
    names = list(candidates())
    hits = dict.fromkeys(known["suite"].unique(), 0)
    picks = []
    for group in known["group"].unique():
        train, test = known[known["group"] != group], known[known["group"] == group]
        score = {n: int((train[n] == train["k"]).sum()) for n in names}
        best = max(names, key=lambda n: score[n])  # first listed wins a tie
        for suite, part in test.groupby("suite"):
            hits[suite] += int((part[best] == part["k"]).sum())
        picks.append(f"{group}: {best}")
    return hits, known["suite"].value_counts().to_dict(), picks


# -- the report -------------------------------------------------------------------------
def _hits(part: pd.DataFrame, column: str) -> tuple[int, int]:
    exact = int((part[column] == part["k"]).sum())
    near = int(((part[column].astype(float) - part["k"]).abs() <= 1).sum())
    return exact, near


def report(frame: pd.DataFrame) -> None:
    tuning = frame[frame["suite"] == "tuning"]
    synth = frame[(frame["suite"] == "synthetic") & (frame["k"] >= 2)]
    parts = [
        ("tuning all", tuning),
        ("convex", tuning[tuning["convex"]]),
        ("not convex", tuning[~tuning["convex"]]),
        ("synthetic", synth),
    ]
    print("\nExact K (within one) per criterion and rule:")
    print(f"{'criterion / rule':<42}" + "".join(f"{f'{p} ({len(d)})':>20}" for p, d in parts))
    columns = [*SINGLE, "rank vote CH+DB", "always 2", "custseg"]
    for column in columns:
        cells = []
        for _, part in parts:
            exact, near = _hits(part, column) if len(part) else (0, 0)
            cells.append(f"{exact:>12} ({near:>3})  ")
        label = "custseg (the rule)" if column == "custseg" else column
        print(f"{label:<42}" + "".join(f"{c:>20}" for c in cells))
    print("\nCandidate rules (exact K):")
    for name in candidates():
        cells = "".join(f"{_hits(part, name)[0]:>12}        " for _, part in parts)
        print(f"  {name:<40}{cells}")
    hits, total, picks = cross_validate(frame)
    per_suite = ", ".join(f"{suite} {hits[suite]} of {total[suite]}" for suite in hits)
    print(
        f"\nCross-validation over data-set groups (leave one battery or separation level out): "
        f"{sum(hits.values())} of {sum(total.values())} exact ({per_suite})."
    )
    for pick in picks:
        print(f"  {pick}")
    for group in ("uniform", "gaussian"):
        part = frame[frame["group"] == group]
        if len(part):
            share = (part["structure"] == "none").mean()
            print(f"'No structure' said on {group} noise: {share:.0%} of {len(part)}")
    print(
        f"\nTime per data set (sample, sweep K=2..{frame.attrs['k_max']}, silhouettes, "
        f"resampling): median {frame['seconds'].median():.2f} s, "
        f"max {frame['seconds'].max():.2f} s; "
        f"gap statistic: median {frame['gap_seconds'].median():.2f} s. "
        f"Rule settings: a smaller K within {NOISE_SE:g} standard error of the best score "
        f"wins; 'comes back' at a prediction strength of {COMES_BACK}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few small data sets")
    parser.add_argument("--suite", choices=["all", "tuning", "synthetic"], default="all")
    parser.add_argument("--tuning", type=Path, default=TUNING_DIR, help="the tuning suite folder")
    parser.add_argument("--k-max", type=int, default=15)
    parser.add_argument("--cache", type=Path, default=None, help="folder for per-set figures")
    parser.add_argument("--csv", type=Path, default=None, help="write per-data-set results")
    parser.add_argument("--seed", type=int, default=2024, help="synthetic suite seed")
    parser.add_argument(
        "--scale", type=float, default=0.5, help="fraction of the synthetic sets to build"
    )
    args = parser.parse_args(argv)
    threads = os.environ.get("OMP_NUM_THREADS", "(unset)")
    print(f"OMP_NUM_THREADS={threads}, cores={os.cpu_count()}, load {os.getloadavg()[0]:.1f}")
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    k_max = min(args.k_max, 8) if args.quick else args.k_max
    cases: list[Case] = []
    if args.suite in ("all", "tuning"):
        if args.tuning.is_dir():
            quick_names = ["wut/x1", "wut/mk1", "wut/z1", "uci/sonar"]
            cases += tuning_suite(args.tuning, quick_names if args.quick else None)
        else:
            print(f"{args.tuning} is absent: tuning suite skipped")
    if args.suite in ("all", "synthetic"):
        cases += synthetic_suite(args.quick, seed=args.seed, scale=args.scale)
    t0 = time.perf_counter()
    records = []
    for i, case in enumerate(cases, 1):
        records.append(measure(case, k_max, args.cache))
        print(f"[{i}/{len(cases)}] {case.name}", file=sys.stderr, flush=True)
    frame = evaluate(cases, records)
    frame.attrs["k_max"] = k_max
    report(frame)
    print(f"Total {time.perf_counter() - t0:.0f} s.")
    if args.csv:
        frame.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

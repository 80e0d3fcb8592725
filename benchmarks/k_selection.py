"""How well does custseg choose K? A suite of data sets with a known number of groups.

Builds (seeded) at least 100 synthetic data sets with known K — K 2-12, 2-10
dimensions, 200-20,000 rows, varying separation, imbalance, anisotropy and noise
points — plus scikit-learn's bundled labelled data (wine, iris, breast cancer,
digits), all standardised. For each data set it runs custseg's K sweep
(:func:`custseg.segmentation.choose_k.sweep_k` on the same representative sample the
pipeline uses) over K = 2..15 and reports, for every single criterion and for
the combined rule:

* the share of data sets where the exact K is found;
* the mean adjusted Rand index (ARI) between the segmentation at the chosen K
  and the true groups (on the sweep sample; 0 when a criterion says K = 1).

It also reports how often "no structure" is claimed on uniform noise and on
single Gaussians (should be nearly always) and on the clustered data (should be
nearly never), and the structure verdicts per separation level.

Run::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/k_selection.py            # full, ~30 min
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/k_selection.py --quick    # smoke, ~1 min

``--cache DIR`` keeps each data set's sweep so that a rerun only re-applies the rules.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.metrics import adjusted_rand_score

from custseg.segmentation.choose_k import (
    SWEEP_SAMPLE,
    combine_votes,
    criterion_votes,
    judge_structure,
    representative_sample,
    sweep_k,
)

SINGLE = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap")
SEPARATIONS = {"well": 7.0, "moderate": 4.5, "close": 3.0}


@dataclass
class Case:
    name: str
    group: str  # well / moderate / close / real / uniform / gaussian
    X: np.ndarray
    y: np.ndarray | None  # None for no-structure data
    k: int


def _standardise(X: np.ndarray) -> np.ndarray:
    sd = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(sd == 0, 1, sd)


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
    return Case(name, separation, _standardise(X), y, k)


def build_suite(quick: bool, seed: int = 2024, scale: float = 1.0) -> list[Case]:
    """The data sets; ``seed`` 2024 is the suite the rule was chosen on, others are held out."""
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
        cases.append(
            Case(
                name,
                "real",
                _standardise(data.data.astype(float)),
                data.target,
                len(np.unique(data.target)),
            )
        )
    n_null = 3 if quick else 20
    for i in range(n_null):
        d = int(rng.integers(1, 11))
        n = int(np.exp(rng.uniform(np.log(200), np.log(5000))))
        cases.append(
            Case(
                f"uniform-{i:02d} d={d} n={n}",
                "uniform",
                _standardise(rng.uniform(size=(n, d))),
                None,
                1,
            )
        )
    for i in range(n_null // 2):
        d = int(rng.integers(1, 11))
        n = int(np.exp(rng.uniform(np.log(200), np.log(5000))))
        cases.append(
            Case(f"gaussian-{i:02d} d={d} n={n}", "gaussian", rng.standard_normal((n, d)), None, 1)
        )
    return cases


def sweep_case(case: Case, k_max: int, cache: Path | None) -> dict:
    """The sweep table, gap curve and per-K ARIs of one data set (cached)."""
    key = hashlib.sha256(case.name.encode()).hexdigest()[:16]
    path = cache / f"{key}.json" if cache else None
    if path is not None and path.exists():
        return json.loads(path.read_text())
    rows = representative_sample(case.X, SWEEP_SAMPLE, random_state=42)
    Xs = case.X[rows]
    labels: dict[int, np.ndarray] = {}
    t0 = time.perf_counter()
    table = sweep_k(Xs, list(range(2, k_max + 1)), random_state=42, labels_out=labels)
    seconds = time.perf_counter() - t0
    aris = {}
    if case.y is not None:
        ys = case.y[rows]
        keep = ys >= 0  # ARI against the true groups, noise points left out
        aris = {
            int(k): float(adjusted_rand_score(ys[keep], lab[keep])) for k, lab in labels.items()
        }
    out = {
        "table": table.to_dict(orient="list"),
        "attrs": {k: v for k, v in table.attrs.items()},
        "aris": aris,
        "seconds": seconds,
        "rows": len(Xs),
    }
    if path is not None:
        path.write_text(json.dumps(out))
    return out


def table_of(rec: dict) -> pd.DataFrame:
    table = pd.DataFrame(rec["table"])
    table.attrs.update(rec["attrs"])
    return table


def evaluate(cases: list[Case], records: list[dict]) -> dict:
    rows = []
    for case, rec in zip(cases, records, strict=True):
        table = table_of(rec)
        votes = criterion_votes(table)
        chosen, agreement, _ = combine_votes(votes, table)
        structure, _ = judge_structure(votes, table, chosen, agreement)
        row = {
            "name": case.name,
            "group": case.group,
            "k": case.k,
            "structure": structure,
            "combined": chosen,
            "agreement": agreement,
            "seconds": rec["seconds"],
        }
        aris = {int(k): v for k, v in rec["aris"].items()}
        for crit in SINGLE:
            row[crit] = votes.get(crit)
        for crit in (*SINGLE, "combined"):
            kk = row[crit]
            row[f"ari:{crit}"] = aris.get(kk, 0.0) if kk is not None else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def report(frame: pd.DataFrame) -> None:
    clustered = frame[frame["group"].isin(["well", "moderate", "close", "real"])]
    synth = frame[frame["group"].isin(["well", "moderate", "close"])]
    print(
        f"\nData sets: {len(clustered)} with known K ({len(synth)} synthetic: "
        + ", ".join(f"{g} {int((synth['group'] == g).sum())}" for g in SEPARATIONS)
        + f"; {int((frame['group'] == 'real').sum())} scikit-learn), "
        f"{int((frame['group'] == 'uniform').sum())} uniform noise, "
        f"{int((frame['group'] == 'gaussian').sum())} single Gaussians."
    )
    print("\nExact-K share and mean ARI to the truth (data sets with known K):")
    header = (
        f"{'criterion':<20}{'exact K, all':>14}{'well-sep.':>11}{'moderate':>10}"
        f"{'close':>8}{'mean ARI':>10}"
    )
    print(header)
    for crit in (*SINGLE, "combined"):
        exact = (clustered[crit] == clustered["k"]).mean()
        parts = [
            (synth[synth["group"] == g][crit] == synth[synth["group"] == g]["k"]).mean()
            for g in SEPARATIONS
        ]
        print(
            f"{crit:<20}{exact:>14.1%}{parts[0]:>11.1%}{parts[1]:>10.1%}{parts[2]:>8.1%}"
            f"{clustered[f'ari:{crit}'].mean():>10.3f}"
        )
    print("\nscikit-learn data (standardised):")
    for _, r in frame[frame["group"] == "real"].iterrows():
        votes = ", ".join(f"{c}={r[c]}" for c in SINGLE)
        print(
            f"  {r['name']:<14} true K={r['k']:<3} combined K={r['combined']:<3} "
            f"ARI={r['ari:combined']:.3f}  structure={r['structure']}  ({votes})"
        )
    print("\n'No structure' claimed:")
    for group in ("uniform", "gaussian", "well", "moderate", "close", "real"):
        part = frame[frame["group"] == group]
        if len(part):
            share = (part["structure"] == "none").mean()
            dist = part["structure"].value_counts().to_dict()
            print(f"  {group:<10} {share:>6.1%} of {len(part):>3}   verdicts: {dist}")
    print(
        f"\nSweep time per data set: median {frame['seconds'].median():.2f} s, "
        f"max {frame['seconds'].max():.2f} s (sample of at most {SWEEP_SAMPLE} rows)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a dozen small data sets")
    parser.add_argument("--k-max", type=int, default=15)
    parser.add_argument("--cache", type=Path, default=None, help="folder for per-set sweeps")
    parser.add_argument("--csv", type=Path, default=None, help="write per-data-set results")
    parser.add_argument(
        "--seed",
        type=int,
        default=2024,
        help="suite seed: 2024 is the suite the combining rule was chosen on; "
        "any other seed builds a held-out suite",
    )
    parser.add_argument(
        "--scale", type=float, default=1.0, help="fraction of the synthetic sets to build"
    )
    args = parser.parse_args(argv)
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}, cores={os.cpu_count()}")
    if args.cache:
        args.cache.mkdir(parents=True, exist_ok=True)
    cases = build_suite(args.quick, seed=args.seed, scale=args.scale)
    print(
        f"Suite seed {args.seed}"
        + (" (the rule was tuned on this suite)" if args.seed == 2024 else " (held out)")
    )
    k_max = min(args.k_max, 8) if args.quick else args.k_max
    t0 = time.perf_counter()
    records = []
    for i, case in enumerate(cases, 1):
        records.append(sweep_case(case, k_max, args.cache))
        if not args.quick:
            print(
                f"[{i}/{len(cases)}] {case.name} ({records[-1]['seconds']:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
    frame = evaluate(cases, records)
    report(frame)
    print(f"Total {time.perf_counter() - t0:.0f} s.")
    if args.csv:
        frame.to_csv(args.csv, index=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The rule that picks K: the best separation that comes back.

Two questions decide K, each answered by a criterion from the literature:

*How well separated are the segments?* The mean **silhouette** (Rousseeuw,
1987) of the segmentation on the sweep's rows: from -1 to 1, how much closer
customers are to their own segment than to the next.

*Do the segments come back?* The **prediction strength** (Tibshirani & Walther,
2005; :mod:`custseg.segmentation.resampling`): segment two random halves of the
customers; for each segment of one half, the share of its pairs of customers
that the other half's centres keep together; the worst segment's share. From 0
to 1; the authors read 0.8 and above as "this K comes back".

The rule
--------
1. **Among the K that come back, the best separated wins**: of the K whose
   prediction strength reaches :data:`COMES_BACK` (0.8, the authors' reading)
   within :data:`NOISE_SE` standard error of its draws (strength + se >= 0.8,
   se the standard deviation of the per-draw strengths over the square root of
   their number), the one with the highest silhouette. (A negative silhouette
   counts as 0.) A K that reaches 0.8 only within the noise is said so:
   "prediction strength 0.80 ± 0.01, 0.8 within the noise".
2. **Unless a smaller K is as good within the noise**: the smallest K that also
   comes back and whose silhouette is within :data:`NOISE_SE` standard error of
   the best one (the one-standard-error rule of Breiman et al., 1984, as the gap
   statistic uses it). The standard error is that of the difference of the two
   silhouettes, customer by customer on the same rows. The outcome then says
   "K=a and K=b are about equally supported; a chosen as the simpler".
3. **No K stands out** when no K comes back, even within the noise: every K is then scored by its
   silhouette times its prediction strength (the separation, counted only as
   far as the segments come back), the best score wins, again unless a smaller
   K is within one standard error of it (the difference's error draw by draw
   over the same halves for the prediction strength, customer by customer for
   the silhouette), and the outcome says that no K comes back reliably.
4. **Never the edge without saying so**: when the chosen K is the largest tried,
   or the silhouette or the Calinski-Harabasz index is best at the largest K
   (they keep improving as K grows, as on rings and long shapes), the outcome
   says that no K in the range stands out and that the groups may not be round,
   and points to ``--algorithm hdbscan`` and ``custseg compare``.

Why this rule: among the rules compared in ``benchmarks/k_selection.py`` (each
criterion alone, the rank vote of Calinski-Harabasz and Davies-Bouldin that came
before, silhouette × prediction strength, K gated by a prediction-strength
threshold then ranked by silhouette or Calinski-Harabasz), cross-validation over
groups of labelled data sets picks the silhouette gated at a strength of 0.8 in
10 of 12 folds. The one-standard-error steps keep a seed, a near tie or a
strength a hair under 0.8 from deciding K, and let the output say so: a gate
that ignored its own noise would let a difference far inside it decide (on the
Mall table K=4's strength is 0.797 ± 0.014, and the bare gate answers K=2).
Reading the gate within the noise costs one synthetic set and no tuning set.
``docs/choosing-k.md`` gives the figures. The constants are the literature's:
0.8 is Tibshirani & Walther's threshold, one standard error the classic rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "COMES_BACK",
    "NOISE_SE",
    "KPick",
    "paired_standard_errors",
    "pick_k",
    "strength_standard_errors",
]

#: Tibshirani & Walther's reading: at this prediction strength a K comes back.
COMES_BACK = 0.8
#: Standard errors within which two scores are "about equal" (the one-SE rule).
NOISE_SE = 1.0


@dataclass(frozen=True)
class KPick:
    """The outcome of :func:`pick_k`.

    Attributes
    ----------
    k : int
        The chosen K.
    best : int
        The K with the highest score (``k`` unless a smaller K is as good).
    scores : ndarray of shape (n_k,)
        What the rule ranks: the silhouette of every K that comes back (NaN for
        the others); when none does, silhouette × prediction strength of every K.
    standard_errors : ndarray of shape (n_k,)
        Standard error of each K's score difference to ``best``.
    equally_supported : list of int
        K about as well supported as ``best`` (``best`` and ``k`` included).
    stands_out : bool
        False when no K comes back reliably or the choice sits at the edge.
    at_edge : bool
        The chosen K is the largest tried, or the silhouette or the
        Calinski-Harabasz index is best at the largest K.
    reason : str
        For the terminal and ``summary.json``.
    notes : list of str
        What the user should know beyond the reason (no K comes back, the edge).
    """

    k: int
    best: int
    scores: np.ndarray
    standard_errors: np.ndarray
    equally_supported: list[int]
    stands_out: bool
    at_edge: bool
    reason: str
    notes: list[str] = field(default_factory=list)


def paired_standard_errors(values: np.ndarray, best: int) -> np.ndarray:
    """Standard error of each row's mean difference to row ``best``, pair by pair.

    Parameters
    ----------
    values : ndarray of shape (n_k, n_pairs)
        One row per K; the same customers (or draws) in every column.
    best : int
        The row to compare with.

    Returns
    -------
    ndarray of shape (n_k,)
        ``sd(values[best] - values[k]) / sqrt(n_pairs)``; 0 for ``best`` itself,
        and 0 everywhere with fewer than two pairs.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[1]
    if n < 2:
        return np.zeros(len(values))
    return (values[best][None, :] - values).std(axis=1, ddof=1) / np.sqrt(n)


def pick_k(
    ks: list[int],
    silhouette: np.ndarray,
    strength_draws: np.ndarray,
    *,
    calinski_harabasz: np.ndarray | None = None,
    silhouette_per_row: np.ndarray | None = None,
) -> KPick:
    """Apply the rule of the module docstring.

    Parameters
    ----------
    ks : list of int
        The K tried, ascending.
    silhouette : ndarray of shape (n_k,)
    strength_draws : ndarray of shape (n_k, n_draws)
        Prediction strength of every K on every draw (the same draws for every
        K; :attr:`custseg.segmentation.resampling.ResamplingScores.draws`).
    calinski_harabasz : ndarray of shape (n_k,), optional
        Only to tell whether it keeps improving up to the largest K.
    silhouette_per_row : ndarray of shape (n_k, n_rows), optional
        Per-customer silhouettes, for the silhouette's share of the noise.

    Returns
    -------
    KPick
    """
    separation = np.clip(np.nan_to_num(np.asarray(silhouette, dtype=float), nan=0.0), 0, None)
    draws = np.asarray(strength_draws, dtype=float)
    strength = np.nan_to_num(np.nanmean(draws, axis=1)) if draws.size else np.zeros(len(ks))
    strength_se = strength_standard_errors(draws, len(ks))
    comes_back = strength + NOISE_SE * strength_se >= COMES_BACK
    if comes_back.any():
        scores = np.where(comes_back, separation, np.nan)
        best = int(np.nanargmax(scores))  # the smallest K on an exact tie
        se = (
            paired_standard_errors(silhouette_per_row, best)
            if silhouette_per_row is not None
            else np.zeros(len(ks))
        )
    else:
        scores = separation * strength
        best = int(np.argmax(scores))
        se = _score_errors(separation, draws, strength, silhouette_per_row, best)
    near = np.flatnonzero(np.nan_to_num(scores, nan=-np.inf) >= scores[best] - NOISE_SE * se)
    at = int(near[0])
    tied = sorted({ks[i] for i in near if i <= best})
    at_edge = _keeps_improving(ks, at, silhouette, calinski_harabasz)
    notes = []
    if not comes_back.any():
        notes.append(
            f"no K comes back reliably: every prediction strength is below {COMES_BACK} "
            f"by more than its noise (the highest, {strength.max():.2f}, at "
            f"K={ks[int(np.argmax(strength))]}); the segments are a convenient cut rather "
            "than groups that would be found again"
        )
    elif at != best and strength[at] < COMES_BACK:  # the reason speaks of ``best``
        notes.append(
            f"K={ks[at]} comes back only within the noise: prediction strength "
            f"{_strength_text(strength[at], strength_se[at])}, {COMES_BACK} within the noise"
        )
    if at_edge:
        notes.append(_edge_note(ks, at, silhouette))
    return KPick(
        k=ks[at],
        best=ks[best],
        scores=scores,
        standard_errors=se,
        equally_supported=tied,
        stands_out=bool(comes_back.any()) and not at_edge,
        at_edge=at_edge,
        reason=_reason(ks, at, best, separation, (strength, strength_se), tied),
        notes=notes,
    )


def strength_standard_errors(draws: np.ndarray, n_k: int) -> np.ndarray:
    """Standard error of each K's prediction strength over its draws.

    Parameters
    ----------
    draws : ndarray of shape (n_k, n_draws)
        Prediction strength of every K on every draw; NaN draws are left out.
    n_k : int
        The number of K, for the zeros returned when there are no draws.

    Returns
    -------
    ndarray of shape (n_k,)
        ``sd(draws[k]) / sqrt(n_draws[k])``; 0 with fewer than two draws.
    """
    if not draws.size:
        return np.zeros(n_k)
    counts = np.isfinite(draws).sum(axis=1)
    out = np.zeros(n_k)
    enough = counts >= 2
    if enough.any():
        sd = np.nanstd(draws[enough], axis=1, ddof=1)
        out[enough] = sd / np.sqrt(counts[enough])
    return out


def _strength_text(strength: float, se: float) -> str:
    """``0.84``; ``0.80 ± 0.01`` when it reaches the threshold only within its noise."""
    if strength >= COMES_BACK:
        return f"{strength:.2f}"
    return f"{strength:.2f} ± {se:.2f}"


def _score_errors(
    separation: np.ndarray,
    draws: np.ndarray,
    strength: np.ndarray,
    per_row: np.ndarray | None,
    best: int,
) -> np.ndarray:
    """Standard error of every K's score difference to the best K's.

    The prediction strength's part, draw by draw over the same halves; the
    silhouette's part, customer by customer, weighted by the prediction strength.
    """
    score_draws = np.nan_to_num(separation[:, None] * draws)
    variance = paired_standard_errors(score_draws, best) ** 2
    if per_row is not None:
        variance = variance + (np.nan_to_num(strength) * paired_standard_errors(per_row, best)) ** 2
    return np.sqrt(variance)


def _edge_note(ks: list[int], at: int, silhouette: np.ndarray) -> str:
    """What the edge means: the choice itself, or a criterion still rising past it."""
    advice = (
        "as it does when the groups are not round (rings, long shapes). "
        "Try --algorithm hdbscan, or compare algorithms with custseg compare"
    )
    if at == len(ks) - 1:
        return (
            f"no K in {ks[0]}..{ks[-1]} stands out: the separation keeps improving up to "
            f"K={ks[-1]}, {advice}"
        )
    # A smaller K was chosen: say which curve rises, so the note does not contradict it.
    rising = np.asarray(silhouette, dtype=float)
    criterion = (
        "the silhouette"
        if np.isfinite(rising).any() and int(np.nanargmax(rising)) == len(ks) - 1
        else "the Calinski-Harabasz index"
    )
    return (
        f"K={ks[at]} is the best separation that comes back, but {criterion} keeps "
        f"improving up to K={ks[-1]}, {advice}"
    )


def _keeps_improving(
    ks: list[int], at: int, silhouette: np.ndarray, calinski_harabasz: np.ndarray | None
) -> bool:
    if at == len(ks) - 1:
        return True
    if len(ks) < 3:
        return False
    curves = [np.asarray(silhouette, dtype=float)]
    if calinski_harabasz is not None:
        curves.append(np.asarray(calinski_harabasz, dtype=float))
    return any(int(np.nanargmax(c)) == len(ks) - 1 for c in curves if np.isfinite(c).any())


def _reason(
    ks: list[int],
    at: int,
    best: int,
    separation: np.ndarray,
    strengths: tuple[np.ndarray, np.ndarray],
    tied: list[int],
) -> str:
    k = ks[at]
    strength, se = strengths
    if strength[best] + NOISE_SE * se[best] >= COMES_BACK:
        within = f", {COMES_BACK} within the noise" if strength[best] < COMES_BACK else ""
        why = (
            f"K={ks[best]} has the best separation that comes back (silhouette "
            f"{separation[best]:.2f}, prediction strength "
            f"{_strength_text(strength[best], se[best])}{within})"
        )
    else:
        why = (
            f"K={ks[best]} has the best separation as far as it comes back (silhouette "
            f"{separation[best]:.2f} × prediction strength {strength[best]:.2f} = "
            f"{separation[best] * strength[best]:.2f})"
        )
    if len(tied) > 1:
        listed = " and ".join(f"K={t}" for t in tied)
        why += f"; {listed} are about equally supported; {k} chosen as the simpler"
    return why

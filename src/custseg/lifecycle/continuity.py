"""Segments over time: keep segment identities when a model is retrained.

K-Means numbers its clusters arbitrarily, so a plain retrain renames and
renumbers everything. ``custseg segment NEW --previous OLD`` links the new fit
to the previous run instead.

Warm start
----------
When the new K equals the previous model's K, the previous centres seed the
fit: they are mapped back to original units with the previous scaler, then into
the new run's scaling, and K-Means starts from them (one Lloyd run, no random
restarts). The ordinary cold fit (``n_init`` seeded restarts) is run as well and
the warm result is kept unless the cold one's inertia is more than
:data:`WARM_START_TOLERANCE` (1%) lower — then the data has changed enough that
the old centres lead to a worse local optimum, and the summary says so. Engines
whose ``fit`` takes no ``init_centers`` keyword are always fitted cold.

The matching rule
-----------------
1. Every centre, old and new, is expressed in the **previous model's scaled
   space** (new centres: new scaler inverse, then the previous scaler), so
   distances mean the same thing they meant when the old segments were built.
2. An optimal one-to-one assignment (the Hungarian algorithm,
   :func:`scipy.optimize.linear_sum_assignment`) minimises the total Euclidean
   distance between paired centres. With different K, the surplus segments on
   one side stay unpaired.
3. A pair only counts as *the same segment* when the new centre lies within
   ``MATCH_FRACTION × d_nn`` of the old one, where ``d_nn`` is the distance
   from the old centre to its nearest other old centre. With the fraction at
   0.5 the new centre is still well inside the old segment's territory: the old
   model would score it into that segment. A previous model with a single
   segment has no neighbour; its one segment matches whatever is nearest.
4. A matched segment keeps its old **id** and **name**. The name is refreshed
   only when the new profile no longer fits it: each word of the old name must
   still hold for the new profile with :data:`NAME_SLACK` (0.1 standard
   deviations) of tolerance — "High income" needs z(income) >= 0.4, "Very high
   income" z >= 1.4, "Average" every |z| < 0.6. Refreshed names are reported.
5. Unmatched new segments get fresh ids, largest first, after the highest id
   ever used in the model's lineage (ids of vanished segments are never
   reused). Unmatched old segments are reported as vanished.

Ids can therefore have gaps (0, 1, 3, 5); the model stores the id of each
centre row in ``center_ids`` and scoring returns those ids.

Transitions
-----------
When the previous run's ``segments.csv`` sits beside its ``model.json``, the
customers present in both runs are matched on the ID column and counted in a
migration matrix (old segment × new segment), written as ``transitions.csv``.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeGuard

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from custseg.engines.base import Engine, Fitted
from custseg.errors import DataWarning, SchemaError
from custseg.features.kinds import ColumnKind
from custseg.features.preprocessing import Scaler
from custseg.features.profiles import DESCRIBE_Z, term_claims
from custseg.io import check_run, read_json
from custseg.io.readers import read_table_text
from custseg.model import SegmentModel, load_model

__all__ = [
    "MATCH_FRACTION",
    "NAME_SLACK",
    "WARM_START_TOLERANCE",
    "Linking",
    "PreviousRun",
    "link_segments",
    "load_previous",
    "match_centers",
    "name_fits",
]

MATCH_FRACTION = 0.5
NAME_SLACK = 0.1
_COMPARISON = re.compile(r" \((lower|higher|[a-z0-9]*-?lowest|highest) [^()]*\)$")
WARM_START_TOLERANCE = 0.01


@dataclass
class PreviousRun:
    """A previous segmentation run: its model and, when available, its assignments.

    Attributes
    ----------
    model : SegmentModel
    assignments : DataFrame or None
        Columns ``id`` (str, the customer ID as written) and ``segment`` (int), one
        row per customer the previous run segmented; None when its ``segments.csv``
        is not available.
    id_column : str or None
        Name of the ID column in the previous run.
    source : str
        Where the run was read from (for messages).
    """

    model: SegmentModel
    assignments: pd.DataFrame | None = None
    id_column: str | None = None
    source: str = "previous model"

    @property
    def features(self) -> list[str]:
        return self.model.feature_names

    def check_compatible(self, features: list[str], id_column: str | None, source: str) -> None:
        """Refuse a new run that cannot be linked to this one.

        Raises
        ------
        SchemaError
            The features differ from the previous model's, or transitions are possible
            (the previous run's assignments are known) but the new table has no ID column.
        """
        if list(features) != self.features:
            missing = [f for f in self.features if f not in features]
            extra = [f for f in features if f not in self.features]
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(repr(f) for f in missing)}" if missing else "",
                    f"unexpected {', '.join(repr(f) for f in extra)}" if extra else "",
                    "" if missing or extra else "same names in another order",
                )
                if part
            )
            raise SchemaError(
                f"the features of {source} ({detail}) differ from the previous model "
                f"{self.source}, which uses {', '.join(repr(f) for f in self.features)}; "
                "pass --features with exactly those columns, or drop --previous"
            )
        if self.assignments is not None and id_column is None:
            old = f" (the previous run used '{self.id_column}')" if self.id_column else ""
            raise SchemaError(
                f"{source} has no customer ID column, which --previous needs to follow "
                f"customers between runs{old}; name it with --id-column"
            )


def load_previous(previous: str | Path | SegmentModel | PreviousRun) -> PreviousRun:
    """Read a previous run: a run folder, its ``model.json``, or a model in memory.

    A folder (or the folder of the given ``model.json``) that also holds
    ``segments.csv`` provides the customers' previous segments for the transitions;
    its ``summary.json``, when present, names the ID column.

    Raises
    ------
    InputError, ModelError
        The model is missing or is not a custseg model.
    SchemaError
        ``segments.csv`` lacks the ID column or the ``segment`` column.
    """
    if isinstance(previous, PreviousRun):
        return previous
    if isinstance(previous, SegmentModel):
        return PreviousRun(model=previous)
    path = Path(previous)
    folder = path if path.is_dir() else path.parent
    check_run(folder)  # a run interrupted while its files were moved is not a previous run
    model = load_model(path)
    source = str(path)
    segments_csv = folder / "segments.csv"
    if not segments_csv.exists():
        warnings.warn(
            f"no segments.csv beside the previous model {source}; segment ids are kept but "
            "transitions.csv cannot be written (pass the previous run's folder)",
            DataWarning,
            stacklevel=2,
        )
        return PreviousRun(model=model, source=source)
    summary_path = folder / "summary.json"
    summary = read_json(summary_path, what="summary") if summary_path.exists() else None
    id_column = summary.get("id_column") if isinstance(summary, dict) else None
    table = read_table_text(segments_csv)
    seg_col = "segment_custseg" if "segment_custseg" in table.columns else "segment"
    if seg_col not in table.columns:
        raise SchemaError(
            f"'{segments_csv}' has no 'segment' column; pass the folder written by custseg segment"
        )
    if id_column is None or id_column not in table.columns:
        raise SchemaError(
            f"'{segments_csv}' has no customer ID column"
            + (f" '{id_column}'" if id_column else "")
            + "; the previous run needs one to follow customers between runs (rerun it "
            "with --id-column, or pass only its model.json)"
        )
    seg = pd.to_numeric(table[seg_col].str.strip(), errors="coerce")
    keep = seg.notna().to_numpy()
    assignments = pd.DataFrame(
        {
            "id": table.loc[keep, id_column].astype(str).to_numpy(),
            "segment": seg[keep].astype("int64").to_numpy(),
        }
    )
    return PreviousRun(model=model, assignments=assignments, id_column=id_column, source=source)


def match_centers(
    old_centers: np.ndarray, new_centers: np.ndarray, *, fraction: float = MATCH_FRACTION
) -> tuple[dict[int, int], np.ndarray, np.ndarray]:
    """Pair new centres with old ones (Hungarian assignment plus a distance limit).

    Parameters
    ----------
    old_centers : ndarray of shape (n_old, n_features)
    new_centers : ndarray of shape (n_new, n_features)
        Both in the same space (the previous model's scaled space).
    fraction : float, default=0.5
        A pair counts only when its distance is at most ``fraction`` times the
        distance from the old centre to its nearest other old centre.

    Returns
    -------
    pairs : dict
        New centre row → old centre row, for the pairs that count.
    distances : ndarray of shape (n_new, n_old)
        Euclidean distance between every new and old centre.
    limits : ndarray of shape (n_old,)
        The distance limit of each old centre (inf when there is a single one).
    """
    distances = np.sqrt(((new_centers[:, None, :] - old_centers[None, :, :]) ** 2).sum(axis=2))
    between = np.sqrt(((old_centers[:, None, :] - old_centers[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(between, np.inf)
    limits = fraction * between.min(axis=1) if len(old_centers) > 1 else np.array([np.inf])
    rows, cols = linear_sum_assignment(distances)
    pairs = {
        int(r): int(c) for r, c in zip(rows, cols, strict=True) if distances[r, c] <= limits[c]
    }
    return pairs, distances, limits


def _term_rules(
    features: list[str],
    vocabulary: Mapping[str, tuple[str, str]],
    kinds: Sequence[ColumnKind] | None,
) -> dict[str, tuple[int, float]]:
    """Each word the naming rule can write → (feature index, the z it claims)."""
    rules: dict[str, tuple[int, float]] = {}
    for j, feature in enumerate(features):
        kind = kinds[j] if kinds is not None else None
        for word, z in term_claims(feature, vocabulary, kind=kind).items():
            rules.setdefault(word, (j, z))
    return rules


def name_fits(
    name: str,
    z: np.ndarray,
    features: list[str],
    *,
    vocabulary: Mapping[str, tuple[str, str]] | None = None,
    kinds: Sequence[ColumnKind] | None = None,
) -> bool:
    """Whether a segment name still describes a profile (see rule 4 of the module doc).

    Parameters
    ----------
    name : str
        A name written by :func:`custseg.features.profiles.name_segments`, e.g.
        ``"Young · High spending score"`` or ``"Average"``.
    z : ndarray of shape (n_features,)
        z-scores of the segment's feature means in the new run.
    features : list of str
    vocabulary : mapping, optional
        The naming vocabulary the run uses.
    kinds : sequence of ColumnKind, optional
        What each feature measures; default: read from the names.
    """
    base = re.sub(r" \(\d+\)$| \d+$", "", name)
    # A comparison between colliding segments ("(higher income)") cannot be checked on
    # one profile.
    base = _COMPARISON.sub("", base)
    terms = base.split(" · ")
    rules = _term_rules(features, vocabulary or {}, kinds)
    named = set()
    for term in terms:
        if term == "Average":
            continue
        if term not in rules:
            return False
        j, claimed = rules[term]
        named.add(j)
        if np.sign(z[j]) != np.sign(claimed) or abs(z[j]) < abs(claimed) - NAME_SLACK:
            return False
    if terms and terms[0] == "Average":
        rest = [j for j in range(len(features)) if j not in named]
        return bool(np.all(np.abs(z[rest]) < DESCRIBE_Z + NAME_SLACK))
    return True


class _WarmStartable(Protocol):
    """An engine whose ``fit`` can start from given centres."""

    def fit(
        self,
        X: np.ndarray,
        n_clusters: int,
        *,
        random_state: int,
        init_centers: np.ndarray | None = None,
    ) -> Fitted: ...


def _accepts_init(engine: Engine) -> TypeGuard[_WarmStartable]:
    try:
        return "init_centers" in inspect.signature(engine.fit).parameters
    except (TypeError, ValueError):
        return False


def _inertia(Z: np.ndarray, fitted: Fitted) -> float:
    ok = fitted.labels >= 0
    return float(((Z[ok] - fitted.centers[fitted.labels[ok]]) ** 2).sum())


@dataclass
class Linking:
    """How a new fit relates to a previous run; built by :func:`link_segments`.

    Attributes
    ----------
    previous : PreviousRun
    ids : list of int
        Final segment id of each centre the engine returned (engine order).
    order : list of int
        Engine centre rows in final order (ascending id): the model's centre rows.
    pairs : dict
        Engine centre row → previous model's centre row, for matched segments.
    distances : ndarray of shape (n_new, n_old)
        Centre distances in the previous model's scaled space (engine order × previous
        centre rows).
    limits : ndarray of shape (n_old,)
    warm_start : dict
        ``possible``, ``used``, and the inertia of the warm and cold fits.
    next_id : int
        The next fresh id of the lineage.
    renamed : list of dict
        Filled by :meth:`final_names`.
    """

    previous: PreviousRun
    ids: list[int]
    order: list[int]
    pairs: dict[int, int]
    distances: np.ndarray
    limits: np.ndarray
    warm_start: dict[str, Any]
    next_id: int
    renamed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def center_ids(self) -> list[int]:
        return [self.ids[i] for i in self.order]

    def model_extra(self) -> dict[str, Any]:
        """Blocks for the new model: ``center_ids`` when ids have gaps, and the lineage."""
        old = self.previous.model
        lineage = dict(old.extra.get("lineage") or {})
        extra: dict[str, Any] = {
            "lineage": {
                "generation": int(lineage.get("generation", 1)) + 1,
                "next_id": int(self.next_id),
                "previous_fingerprint": old.training.get("fingerprint"),
            }
        }
        if self.center_ids != list(range(len(self.ids))):
            extra["center_ids"] = [int(i) for i in self.center_ids]
        return extra

    def final_names(
        self,
        names: Mapping[int, str],
        z: Mapping[int, np.ndarray],
        features: list[str],
        *,
        vocabulary: Mapping[str, tuple[str, str]] | None = None,
        kinds: Sequence[ColumnKind] | None = None,
    ) -> dict[int, str]:
        """Keep the previous name of each matched segment whose profile still fits it.

        Parameters
        ----------
        names : mapping
            Segment id → the name the naming rule gives the new profile.
        z : mapping
            Segment id → z-scores of its feature means, shape (n_features,).
        features : list of str
        vocabulary : mapping, optional
        kinds : sequence of ColumnKind, optional
            What each feature measures; default: read from the names.

        Returns
        -------
        dict
            Segment id → final name; names stay distinct (a kept name that another
            segment's fresh name equals gives way to its own fresh name). Fills
            :attr:`renamed`.
        """
        old_names = self.previous.model.segment_names
        old_ids = self.previous.model.center_ids.tolist()
        matched = {self.ids[row]: old_ids[col] for row, col in self.pairs.items()}
        final = dict(names)
        for sid in sorted(names):
            if sid in matched and sid in z:
                old_name = old_names.get(matched[sid], "")
                if old_name and name_fits(
                    old_name, z[sid], features, vocabulary=vocabulary, kinds=kinds
                ):
                    final[sid] = old_name
        # A kept name equal to another segment's name gives way to its own fresh name:
        # fresh names are distinct, so this ends, and no name needs a number.
        while True:
            taken = list(final.values())
            clash = [s for s in final if final[s] != names[s] and taken.count(final[s]) > 1]
            if not clash:
                break
            for sid in clash:
                final[sid] = names[sid]
        self.renamed = [
            {"id": int(sid), "from": old_names.get(matched[sid], ""), "to": final[sid]}
            for sid in sorted(final)
            if sid in matched and final[sid] != old_names.get(matched[sid], "")
        ]
        return final

    def report(
        self,
        table: pd.DataFrame,
        id_column: str | None,
        names: Mapping[int, str],
        sizes: Mapping[int, int],
    ) -> tuple[pd.DataFrame | None, dict[str, Any]]:
        """The migration matrix and the ``continuity`` block of ``summary.json``.

        Parameters
        ----------
        table : DataFrame
            The new run's labelled table (``segment`` holds final ids).
        id_column : str or None
        names : mapping
            Segment id → final name.
        sizes : mapping
            Segment id → number of training customers.
        """
        old = self.previous.model
        old_ids = [int(s["id"]) for s in old.segments if int(s["id"]) >= 0]
        old_names = old.segment_names
        old_center_ids = old.center_ids.tolist()
        old_rows = {sid: i for i, sid in enumerate(old_center_ids)}
        matched_old = set(self.pairs.values())
        matches, new = [], []
        for row, sid in sorted(enumerate(self.ids), key=lambda kv: kv[1]):
            nearest = int(np.argmin(self.distances[row]))
            entry = {"id": int(sid), "name": names.get(sid, ""), "size": int(sizes.get(sid, 0))}
            if row in self.pairs:
                col = self.pairs[row]
                matches.append(
                    {
                        **entry,
                        "previous_name": old_names.get(old_center_ids[col], ""),
                        "distance": float(self.distances[row, col]),
                        "limit": _finite(self.limits[col]),
                    }
                )
            else:
                new.append(
                    {
                        **entry,
                        "nearest_previous": int(old_center_ids[nearest]),
                        "distance": float(self.distances[row, nearest]),
                    }
                )
        vanished = []
        for sid in old_ids:
            old_col = old_rows.get(sid)
            if old_col is None or old_col in matched_old:
                continue
            nearest_row = int(np.argmin(self.distances[:, old_col]))
            vanished.append(
                {
                    "id": sid,
                    "name": old_names.get(sid, ""),
                    "nearest_new": int(self.ids[nearest_row]),
                    "distance": float(self.distances[nearest_row, old_col]),
                    "limit": _finite(self.limits[old_col]),
                }
            )
        block: dict[str, Any] = {
            "previous": {
                "source": self.previous.source,
                "fingerprint": old.training.get("fingerprint"),
                "k": len(old.centers),
            },
            "rule": (
                "Hungarian assignment on centre distance in the previous model's scaled "
                f"space; a pair is the same segment when its distance <= {MATCH_FRACTION} x "
                "the old centre's distance to its nearest other old centre"
            ),
            "warm_start": self.warm_start,
            "matches": matches,
            "new": new,
            "vanished": vanished,
            "renamed": list(self.renamed),
            "transitions": None,
        }
        assignments = self.previous.assignments
        if assignments is None or id_column is None:
            block["transitions"] = {
                "available": False,
                "reason": "the previous run's segments.csv was not available",
            }
            return None, block
        matrix, stats = _transitions(table, id_column, assignments, old_ids, old_names, names)
        block["transitions"] = {"available": True, **stats}
        return matrix, block


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _transitions(
    table: pd.DataFrame,
    id_column: str,
    assignments: pd.DataFrame,
    old_ids: list[int],
    old_names: Mapping[int, str],
    new_names: Mapping[int, str],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    seg = table["segment"]
    scored = seg.notna().to_numpy()
    new = pd.DataFrame(
        {
            "id": table.loc[scored, id_column].astype(str).to_numpy(),
            "new": seg[scored].astype("int64").to_numpy(),
        }
    )
    dupes_new = int(new["id"].duplicated().sum())
    dupes_old = int(assignments["id"].duplicated().sum())
    if dupes_new or dupes_old:
        warnings.warn(
            f"duplicate customer IDs ({dupes_old} in the previous run, {dupes_new} in this "
            "one): transitions count the first row of each ID only",
            DataWarning,
            stacklevel=4,
        )
    new = new.drop_duplicates("id")
    old = assignments.drop_duplicates("id").rename(columns={"segment": "old"})
    both = old.merge(new, on="id", how="inner", sort=False)
    new_ids = sorted(new_names)
    rows_old = sorted(set(old_ids) | set(both["old"].tolist()))
    counts = pd.crosstab(both["old"], both["new"]).reindex(
        index=rows_old, columns=new_ids, fill_value=0
    )
    matrix = pd.DataFrame(
        {
            "old_segment": rows_old,
            "old_name": [old_names.get(s, "") for s in rows_old],
        }
    )
    for sid in new_ids:
        matrix[f"{sid}: {new_names[sid]}"] = counts[sid].to_numpy(dtype="int64")
    matrix["customers"] = counts.sum(axis=1).to_numpy(dtype="int64")
    in_both = len(both)
    changed = int((both["old"] != both["new"]).sum())
    stats = {
        "customers_in_both": in_both,
        "only_previous": int(len(old) - in_both),
        "only_new": int(len(new) - in_both),
        "changed": changed,
        "changed_share": changed / in_both if in_both else None,
    }
    return matrix, stats


def link_segments(
    previous: PreviousRun,
    engine: Engine,
    Z: np.ndarray,
    cold: Fitted,
    *,
    scaler: Scaler,
    random_state: int,
) -> tuple[Fitted, Linking]:
    """Warm-start the fit when K is unchanged, and link its segments to ``previous``.

    Parameters
    ----------
    previous : PreviousRun
    engine : Engine
    Z : ndarray of shape (n_rows, n_features)
        The new run's scaled training rows.
    cold : Fitted
        The ordinary (cold) fit of the new run.
    scaler : Scaler
        The new run's scaler.
    random_state : int

    Returns
    -------
    fitted : Fitted
        The engine's result, in the engine's centre order.
    linking : Linking
    """
    old = previous.model
    warm: dict[str, Any] = {
        "possible": False,
        "used": False,
        "inertia_warm": None,
        "inertia_cold": None,
    }
    fitted, k = cold, len(cold.centers)
    if k == len(old.centers) and _accepts_init(engine):
        init = scaler.transform(old.scaler.inverse_transform(old.centers))
        warm_fit = engine.fit(Z, k, random_state=random_state, init_centers=init)
        cold_inertia, warm_inertia = _inertia(Z, fitted), _inertia(Z, warm_fit)
        used = warm_inertia <= cold_inertia * (1 + WARM_START_TOLERANCE)
        warm = {
            "possible": True,
            "used": bool(used),
            "inertia_warm": warm_inertia,
            "inertia_cold": cold_inertia,
        }
        if used:
            fitted = warm_fit
    new_centers = old.scaler.transform(scaler.inverse_transform(fitted.centers))
    pairs, distances, limits = match_centers(old.centers, new_centers)
    old_center_ids = old.center_ids.tolist()
    sizes = np.bincount(fitted.labels[fitted.labels >= 0], minlength=len(fitted.centers))
    ever = [int(s["id"]) for s in old.segments] + old_center_ids
    next_id = max(
        max(ever, default=-1) + 1, int((old.extra.get("lineage") or {}).get("next_id", 0))
    )
    ids = [-1] * len(fitted.centers)
    for row, col in pairs.items():
        ids[row] = old_center_ids[col]
    for row in sorted((r for r in range(len(ids)) if r not in pairs), key=lambda r: (-sizes[r], r)):
        ids[row] = next_id
        next_id += 1
    order = sorted(range(len(ids)), key=lambda r: ids[r])
    linking = Linking(
        previous=previous,
        ids=ids,
        order=order,
        pairs=pairs,
        distances=distances,
        limits=limits,
        warm_start=warm,
        next_id=next_id,
    )
    return fitted, linking

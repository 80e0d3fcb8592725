"""The segmentation pipeline, top to bottom: prepare → choose K → fit → label → describe.

Each stage is a module of its own, and this file only says in which order they
run and what each hands to the next:

1. **prepare** (:mod:`~custseg.segmentation.prepare`): read, column roles,
   features, parsing, missing values, the log transform of skewed columns,
   scaling, outlier fences → :class:`Prepared`.
2. **choose K** (:mod:`~custseg.segmentation.k_choice`): the one K rule, unless
   K is given or the engine finds it.
3. **fit** (:mod:`~custseg.segmentation.fit`): an algorithm from the engine
   registry, without the outliers; segments numbered by size (a segment under
   the minimum share dissolved), or linked to a previous run's ids.
4. **label** (:mod:`~custseg.segmentation.label`): every row scored by the
   model's own rule.
5. **describe** (:mod:`~custseg.segmentation.describe`): profiles, names,
   quality, and the typed summary (:mod:`~custseg.segmentation.records`).

Writing is the caller's: :meth:`SegmentationResult.save`. The chunked and Spark
backends (:mod:`custseg.backends`) run the same stages on batches and on a
cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from custseg.errors import collect_data_warnings
from custseg.lifecycle.continuity import PreviousRun, load_previous
from custseg.model import SegmentModel
from custseg.options import SegmentOptions
from custseg.progress import ProgressFn
from custseg.segmentation.choose_k import KSelection
from custseg.segmentation.describe import describe_run, drift_baseline, profile_and_name
from custseg.segmentation.fit import feature_records_ahead, fit_segments, fitted_model
from custseg.segmentation.k_choice import choose_k
from custseg.segmentation.label import label_rows, labelled_table
from custseg.segmentation.prepare import in_canonical_order, prepare, read_input
from custseg.segmentation.records import SUMMARY_SCHEMA_VERSION, training_record
from custseg.segmentation.result import SegmentationResult

__all__ = ["SUMMARY_SCHEMA_VERSION", "run"]

PreviousInput = str | Path | SegmentModel | PreviousRun


def run(
    data: pd.DataFrame | str | Path,
    options: SegmentOptions,
    *,
    progress: ProgressFn | None = None,
    previous: PreviousInput | None = None,
    on_table: Callable[[pd.DataFrame], None] | None = None,
    on_choice: Callable[[KSelection], None] | None = None,
) -> SegmentationResult:
    """Segment a table in memory.

    Parameters
    ----------
    data : DataFrame, str or Path
        The table, or a path readable by :func:`custseg.io.read_table`.
    options : SegmentOptions
    progress : callable, optional
        ``progress(phase, rows_done, rows_total)``.
    previous : str, Path, SegmentModel or PreviousRun, optional
        A previous run to keep segment ids and names from.
    on_table, on_choice : callable, optional
        Called with the labelled table once made (segment names as a categorical of the
        same texts; it does not change afterwards), before the run is described; with the
        sweep's choice of K before the final fit.

    Returns
    -------
    SegmentationResult
        Its ``warnings`` (and ``summary["warnings"]``) list the data warnings
        raised on the way, which are also re-issued to the caller.
    """
    frame, source = read_input(data, progress)
    with collect_data_warnings() as messages:
        last = load_previous(previous) if previous is not None else None
        result = _stages(frame, source, options, progress, last, on_table, on_choice)
    result.warnings.extend(messages)
    result.summary["warnings"] = list(result.warnings)
    result.progress = progress
    return result


def _stages(
    frame: pd.DataFrame,
    source: str,
    options: SegmentOptions,
    progress: ProgressFn | None,
    previous: PreviousRun | None,
    on_table: Callable[[pd.DataFrame], None] | None,
    on_choice: Callable[[KSelection], None] | None,
) -> SegmentationResult:
    as_read = prepare(
        frame,
        options,
        source=source,
        default_features=previous.features if previous is not None else None,
    )
    # The stages see the rows in an order fixed by their values; the labels go
    # back to the input's order for the table.
    # The fingerprint hashes the fitting rows as the input holds them.
    training = training_record(as_read.X_fit, as_read.features, options.random_state)
    prep, order = in_canonical_order(as_read)
    X_as_read = as_read.X_fit  # the fitting rows in the input's order, for the result
    del as_read  # its other matrices go: big tables fit in less memory
    if previous is not None:  # fail before fitting: same features, an ID to follow
        previous.check_compatible(prep.features, prep.schema.id_column, source)
    # Outliers take no part in choosing K or fitting; they are labelled like everyone.
    Z_core = prep.Z_core
    records = feature_records_ahead(prep)  # beside choosing K
    choice = choose_k(Z_core, options, n_distinct=prep.n_distinct, source=source, progress=progress)
    if choice is not None and on_choice is not None:
        on_choice(choice)
    k = choice.chosen if choice is not None else options.k
    fit = fit_segments(
        Z_core,
        k,
        options,
        scaler=prep.scaler,
        previous=previous,
        progress=progress,
        Z_all=prep.Z,
    )
    model = fitted_model(prep, fit, options, training=training, records=records.result())
    labels = label_rows(model, prep.X_all, prep.fit_rows, progress)
    profiles = profile_and_name(prep, labels, options, fit.link, model.features)
    model.segments = [record.model_entry() for record in profiles.records]
    # The drift baseline, in a thread beside the table and the summary (they do not read it).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="custseg-baseline") as pool:
        baseline = pool.submit(drift_baseline, model, prep.X_fit, labels)
        left_out = options.missing == "drop" and prep.missing.rows_with_missing > 0
        # The scores go back to the input's order as arrays: a frame's gather costs more.
        table, for_writing = labelled_table(
            prep.frame, model, labels.put_back(order), profiles.names, rows_left_out=left_out
        )
        if on_table is not None:  # the table for writing: names coded (same text)
            on_table(for_writing)
        summary = describe_run(
            prep,
            options,
            model=model,
            labels=labels,
            profiles=profiles,
            choice=choice,
            final_fit=fit.info,
            small=fit.small,
        )
        model.extra["baseline"] = baseline.result()  # for custseg drift
    transitions = None
    if fit.link is not None:
        transitions, summary.continuity = fit.link.report(
            table, prep.schema.id_column, profiles.names, profiles.sizes
        )
    return SegmentationResult(
        table=table,
        profiles=profiles.table,
        k_selection=choice.table if choice is not None else _NO_K_TABLE.copy(),
        summary=summary.to_dict(),
        model=model,
        schema=prep.schema,
        X=X_as_read,
        transitions=transitions,
    )


_NO_K_TABLE = pd.DataFrame(columns=["k", "inertia", "silhouette"])

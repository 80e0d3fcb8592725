"""What a segmentation run hands back: the labelled table, profiles, summary and model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.features.roles import TableSchema
from custseg.io import RunWriter, write_csv, write_json
from custseg.io.arrow import write_csv_auto
from custseg.model import SegmentModel
from custseg.progress import ProgressFn

__all__ = ["SegmentationResult", "write_segments"]


def write_segments(
    table: pd.DataFrame, run: RunWriter, *, progress: ProgressFn | None = None
) -> Path:
    """Write the labelled ``table`` as the run's ``segments.csv``; its staged path."""
    return write_csv_auto(
        table, run.path("segments.csv"), progress=progress, digest=run.digest("segments.csv")
    )


@dataclass
class SegmentationResult:
    """The outcome of a segmentation run.

    Attributes
    ----------
    table : DataFrame
        Every input row, original columns unchanged, plus ``segment``,
        ``segment_name``, ``distance_to_center`` (and ``reason`` where a row was
        left out of fitting).
    labels : Series of Int64
        The ``segment`` column; empty (``<NA>``) for rows left out.
    profiles : DataFrame
        One row per segment: ``name``, ``size``, ``share`` and per feature
        ``mean:``, ``median:`` and ``z:`` columns.
    k_selection : DataFrame
        One row per K tried (``k``, ``inertia``, ``silhouette``); empty when K was given.
    summary : dict
        What ``summary.json`` holds.
    model : SegmentModel
    schema : TableSchema
    """

    table: pd.DataFrame
    profiles: pd.DataFrame
    k_selection: pd.DataFrame
    summary: dict[str, Any]
    model: SegmentModel
    schema: TableSchema
    X: np.ndarray | None = field(repr=False, default=None)  # original-unit features of fitted rows
    #: Old segment × new segment counts when fitted with ``previous``
    #: (custseg.lifecycle.continuity).
    transitions: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    progress: Any = field(default=None, repr=False)  # callback for save(); see custseg.progress

    @property
    def labels(self) -> pd.Series:
        return self.table["segment"]

    def write(self, run: RunWriter, *, segments: Path | None = None) -> dict[str, Path]:
        """Write the run's files into an open run; their staged paths, by name.

        ``segments.csv``, ``summary.json``, ``model.json``, and ``k_selection.csv``
        when K was chosen, ``transitions.csv`` when fitted with ``previous``.
        ``segments``: the staged ``segments.csv``, when the caller wrote it already
        (:func:`write_segments`).
        """
        if segments is None:
            segments = write_segments(self.table, run, progress=self.progress)
        paths = {
            "segments": segments,
            "summary": write_json(self.summary, run.path("summary.json")),
            "model": self.model.save(run.path("model.json")),
        }
        if len(self.k_selection):
            paths["k_selection"] = write_csv(self.k_selection, run.path("k_selection.csv"))
        if self.transitions is not None:
            paths["transitions"] = write_csv(self.transitions, run.path("transitions.csv"))
        return paths

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write the run's files (see :meth:`write`) into ``out_dir`` as one complete run.

        The folder is created if absent; it holds the earlier run or this one,
        never a mix (:class:`custseg.io.RunWriter`).
        """
        with RunWriter(out_dir, command="segment") as run:
            staged = self.write(run)
        return {name: run.final(path) for name, path in staged.items()}

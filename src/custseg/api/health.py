"""Whether the model file a service started from still holds the model it serves.

A service loads its model once and keeps serving it (every worker the same one,
pinned by version). Replacing or deleting the file changes nothing until a
restart; ``/healthz`` says so, so that an operator knows a restart is due.
"""

from __future__ import annotations

import os
from pathlib import Path

from custseg.errors import CustsegError
from custseg.model import load_model
from custseg.serving import model_sha256

__all__ = ["FILE_STATES", "ModelFileWatch"]

#: What ``/healthz`` reports as ``model_file``.
FILE_STATES = ("unchanged", "changed", "missing")


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


class ModelFileWatch:
    """Compare a model file with the served model's version, cheaply.

    The file is read again only when its inode, size or modification time moved,
    so a health probe costs one ``stat``.

    Parameters
    ----------
    path : Path
        The model file the user named.
    version : str
        :func:`custseg.serving.model_sha256` of the served model.
    """

    def __init__(self, path: Path, version: str) -> None:
        self.path = path.resolve()
        if self.path.is_dir():
            self.path = self.path / "model.json"
        self.version = version
        self._seen: tuple[int, int, int] | None = None
        self._state = "unchanged"
        self.status()

    def _read_state(self) -> str:
        try:
            return "unchanged" if model_sha256(load_model(self.path)) == self.version else "changed"
        except CustsegError:
            return "changed" if self.path.exists() else "missing"

    def status(self) -> str:
        """One of :data:`FILE_STATES`."""
        signature = _signature(self.path)
        if signature is None:
            self._seen = None
            return "missing"
        if signature != self._seen:
            self._seen = signature
            self._state = self._read_state()
        return self._state

"""Write a run folder so that it always holds one complete run.

A run (``custseg segment``, ``custseg report``, ...) writes several files into one
folder. They are first written into a hidden staging folder inside it
(``.custseg-staging-<pid>-<random>``), then moved into place, and the run's
manifest, ``custseg-run.json``, is moved in last. The manifest lists every file the
run wrote with its size and SHA-256, so that:

- a reader (``custseg report``, ``--previous``) can tell a complete run from one
  interrupted while its files were being moved (:func:`check_run`);
- the next run deletes only files an earlier custseg run listed there, and only
  while they still hold what custseg wrote: a file of the user's is never deleted;
- the staging folder and temporary files of a killed run are removed by the next
  run into the same folder (:func:`remove_stale`).

A folder without a manifest (written by hand, or by an older custseg) is never
cleaned: its files are kept, and overwritten only where the new run writes a file
of the same name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from custseg._version import __version__
from custseg.errors import DataFormatError, InputError
from custseg.io.writers import FileDigest, file_sha256, pid_alive, remove_stale_temporaries

__all__ = [
    "MANIFEST_NAME",
    "RunWriter",
    "check_run",
    "listed_files",
    "read_manifest",
    "remove_stale",
    "run_command",
]

#: The manifest of a run folder: every file the run wrote, with size and SHA-256.
MANIFEST_NAME = "custseg-run.json"
_FORMAT = "custseg-run"
_STAGING_PREFIX = ".custseg-staging-"
_STAGING = re.compile(re.escape(_STAGING_PREFIX) + r"(\d+)-[A-Za-z0-9_]+$")


def _entry(path: Path, digest: FileDigest | None = None) -> dict[str, Any]:
    sha256 = digest.hexdigest() if digest is not None else file_sha256(path)
    return {"bytes": path.stat().st_size, "sha256": sha256}


def _matches(path: Path, entry: dict[str, Any]) -> bool:
    """True when ``path`` is a file still holding what the manifest ``entry`` describes."""
    try:
        if not path.is_file() or path.stat().st_size != entry.get("bytes"):
            return False
        return file_sha256(path) == entry.get("sha256")
    except OSError:
        return False


def read_manifest(folder: str | Path) -> dict[str, dict[str, Any]] | None:
    """The files a custseg run listed in ``folder``'s manifest; None without one.

    Raises
    ------
    DataFormatError
        The manifest exists but is not one custseg wrote.
    """
    data = _manifest_of(folder)
    return None if data is None else data["files"]


def run_command(folder: str | Path) -> str | None:
    """The command that wrote the run in ``folder`` (``"segment"``); None without a manifest."""
    data = _manifest_of(folder)
    return None if data is None else str(data.get("command"))


def _manifest_of(folder: str | Path) -> dict[str, Any] | None:
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(files, dict):
        raise DataFormatError(
            f"'{path}' is not a custseg run manifest; remove it or choose another folder"
        )
    data["files"] = {str(name): item for name, item in files.items() if isinstance(item, dict)}
    return data


def check_run(folder: str | Path) -> dict[str, dict[str, Any]] | None:
    """Check that ``folder`` holds one complete run; its manifest's files, or None.

    Returns None for a folder without a manifest (nothing to check against).

    Raises
    ------
    InputError
        A file the manifest lists is missing or differs: the run that wrote the
        folder was interrupted while moving its files into place.
    """
    files = read_manifest(folder)
    if files is None:
        return None
    for name, entry in files.items():
        if not _matches(Path(folder) / name, entry):
            raise InputError(
                f"'{folder}' holds an interrupted custseg run: '{name}' is not the file its "
                f"{MANIFEST_NAME} lists; run custseg segment into it again"
            )
    return files


def listed_files(folder: str | Path) -> set[str] | None:
    """The files of the complete run in ``folder`` (checked); None without a manifest."""
    files = check_run(folder)
    return None if files is None else set(files)


def _dead(match: re.Match[str]) -> bool:
    return not pid_alive(int(match.group(1)))


def remove_stale(folder: str | Path) -> dict[str, set[str]]:
    """Remove the staging folders and temporary files that killed runs left in ``folder``.

    Only names custseg makes are touched, and only when the process that made
    them is no longer running (a run writing into the same folder at this moment
    keeps its own).

    Returns
    -------
    dict of str to set of str
        The files the removed staging folders' manifests listed, with their
        SHA-256 digests: what an interrupted run may already have moved into
        ``folder``, and may therefore be cleaned like a listed file.
    """
    folder = Path(folder)
    claimed: dict[str, set[str]] = {}
    if not folder.is_dir():
        return claimed
    for entry in folder.iterdir():
        staging = _STAGING.match(entry.name)
        if staging and entry.is_dir() and _dead(staging):
            with contextlib.suppress(DataFormatError):
                for name, item in (read_manifest(entry) or {}).items():
                    claimed.setdefault(name, set()).add(str(item.get("sha256")))
            shutil.rmtree(entry, ignore_errors=True)
    for directory in (folder, *(p for p in folder.iterdir() if p.is_dir())):
        remove_stale_temporaries(directory)
    return claimed


def _files_under(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.name != MANIFEST_NAME
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


class RunWriter:
    """Stage a run's files, then publish them into ``out`` as one complete run.

    Use as a context manager: write each file to :meth:`path`; when the block ends
    without an error the files are moved into ``out``, the files of the earlier run
    that the new one does not write again are removed, and the manifest is
    published last. On an error nothing in ``out`` changes.

    Parameters
    ----------
    out : str or Path
        The run folder; created when absent.
    command : str
        What wrote the run (``"segment"``), recorded in the manifest.
    keep : callable, optional
        ``keep(name)`` is True for files of the earlier run that stay part of the
        run (``custseg report`` keeps the results and replaces only the report).
        With ``keep`` the folder must exist; one without a manifest gets none.
    inputs : iterable of Path, default=()
        Files the run reads: never removed, even when an earlier run listed them.

    Attributes
    ----------
    staging : Path
        The hidden folder the files are written to.
    removed : list of str
        After publishing: the earlier run's files that were removed.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        command: str,
        keep: Callable[[str], bool] | None = None,
        inputs: Iterable[str | Path] = (),
    ) -> None:
        self.out = Path(out)
        self.command = command
        self.keep = keep
        self.inputs = [Path(p) for p in inputs]
        self.removed: list[str] = []
        self.staging = self.out
        self._created = False
        self._digests: dict[str, FileDigest] = {}
        self._claimed: dict[str, set[str]] = {}

    def __enter__(self) -> RunWriter:
        if self.out.exists() and not self.out.is_dir():
            raise InputError(
                f"output folder '{self.out}' is a file; give a folder (the run writes "
                "several files)"
            )
        if self.keep is not None and not self.out.is_dir():
            raise InputError(
                f"run folder '{self.out}' does not exist; pass the --out folder of a finished "
                "custseg segment run"
            )
        self._created = not self.out.exists()
        self.out.mkdir(parents=True, exist_ok=True)
        self._claimed = remove_stale(self.out)
        self.staging = Path(
            tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-", dir=self.out)
        )
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        published = False
        try:
            if exc_type is None:
                self._publish()
                published = True
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
            if not published and self._created:
                with contextlib.suppress(OSError):
                    self.out.rmdir()  # only when empty: a failed run leaves no folder behind

    def path(self, name: str) -> Path:
        """Where to write the run's file ``name`` (a path relative to the run folder)."""
        target = self.staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def digest(self, name: str) -> FileDigest:
        """The digest the manifest takes for the file ``name``: feed it what is written.

        For a big file, written once: hashing it while it is written spares the
        manifest a second pass over it.
        """
        self._digests[name] = digest = FileDigest()
        return digest

    def final(self, path: str | Path) -> Path:
        """The published place of a path under :attr:`staging`."""
        path = Path(path)
        try:
            return self.out / path.relative_to(self.staging)
        except ValueError:
            return path

    # -- publishing ---------------------------------------------------------------------

    def _manifest(self, names: list[str], old: dict[str, dict[str, Any]]) -> dict[str, Any]:
        files = {name: _entry(self.staging / name, self._digests.get(name)) for name in names}
        if self.keep is not None:
            for name, entry in old.items():
                # The kept files were checked by the reader that read the run.
                path = self.out / name
                if name not in files and self.keep(name) and path.is_file():
                    files[name] = entry
        return {
            "format": _FORMAT,
            "version": 1,
            "command": self.command,
            "custseg_version": __version__,
            "files": dict(sorted(files.items())),
        }

    def _is_input(self, path: Path) -> bool:
        return any(_same_file(path, p) for p in self.inputs)

    def _owned(self, name: str, old: dict[str, dict[str, Any]]) -> bool:
        """True when ``out/name`` is a file an earlier custseg run wrote, unchanged."""
        path = self.out / name
        if self._is_input(path):
            return False
        if name in old and _matches(path, old[name]):
            return True
        digests = self._claimed.get(name, set())
        return bool(digests) and path.is_file() and file_sha256(path) in digests

    def _publish(self) -> None:
        previous = read_manifest(self.out)
        old = previous or {}
        names = _files_under(self.staging)
        manifest = self._manifest(names, old)
        # Adding to a folder without a manifest: there is no list to extend truthfully.
        listed = previous is not None or self.keep is None
        (self.staging / MANIFEST_NAME).write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        for name in names:
            target = self.out / name
            if self._is_input(target):
                raise InputError(
                    f"'{target}' is an input of this run and would be replaced; "
                    "choose another output folder"
                )
        for name in names:
            target = self.out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staging / name, target)
            remove_stale_temporaries(target.parent, target.name)
        stale = sorted((set(old) | set(self._claimed)) - set(manifest["files"]))
        for name in stale:
            if self._owned(name, old):
                (self.out / name).unlink()
                self.removed.append(name)
                _remove_empty_parents(self.out / name, self.out)
        if listed:
            os.replace(self.staging / MANIFEST_NAME, self.out / MANIFEST_NAME)


def _remove_empty_parents(path: Path, root: Path) -> None:
    """Remove the folders between ``path`` and ``root`` that are left empty."""
    for parent in path.parents:
        if parent == root or root not in parent.parents:
            return
        try:
            parent.rmdir()
        except OSError:
            return

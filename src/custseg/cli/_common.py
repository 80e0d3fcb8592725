"""What every command shares: the Typer app, error translation, console output."""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence

import typer
from rich.console import Console

from custseg._version import __version__
from custseg.cli._options import as_flags
from custseg.cli._quick import quick_command
from custseg.errors import CustsegError, CustsegWarning, EngineError, InputError

try:  # recent Typer carries its own copy of click
    from typer._click import exceptions as usage_errors
except ImportError:  # pragma: no cover - Typer that uses click itself
    from click import exceptions as usage_errors  # type: ignore[no-redef]

__all__ = [
    "COMMANDS",
    "EXIT_BAD_INPUT",
    "EXIT_ENGINE",
    "app",
    "console",
    "err_console",
    "fail",
    "load_commands",
    "main",
    "reporting_errors",
    "warning_lines",
]

EXIT_BAD_INPUT = 2
EXIT_ENGINE = 3
EXIT_INTERNAL = 1

app = typer.Typer(
    name="custseg",
    help="Turn a customer table into named, explainable segments, and score new customers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Piped output (CI logs, files) gets a wide fixed width instead of rich's 80 columns.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"custseg {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(
        False, "--debug", help="Show the full traceback of an error.", envvar="CUSTSEG_DEBUG"
    ),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """custseg: customer segmentation for marketing analysts."""
    _state["debug"] = debug


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``message`` as one line on stderr and return the Exit to raise."""
    sys.stderr.write(f"custseg: error: {message}\n")
    sys.stderr.flush()
    return typer.Exit(code)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def warning_lines(caught: list[warnings.WarningMessage]) -> list[str]:
    """One ``custseg: warning:`` line per distinct warning, in the order first seen.

    custseg's own warnings are printed as worded; a foreign one (a NumPy
    ``RuntimeWarning``, a library's notice) is named by its class, so that the
    user still sees it but in custseg's one-line form.
    """
    lines: dict[str, None] = {}
    for w in caught:
        text = _one_line(str(w.message))
        if not issubclass(w.category, CustsegWarning):
            text = f"{w.category.__name__}: {text}"
        lines.setdefault(f"custseg: warning: {text}", None)
    return list(lines)


@contextlib.contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn custseg errors into one stderr line and an exit code; print warnings.

    Bad input exits with 2, a failed back-end (Spark, Java) with 3, anything
    unexpected with 1 — always one line, unless ``--debug`` asks for the traceback.
    Every warning, custseg's or a library's, is printed once as one line after the
    command ends (:func:`warning_lines`).
    """
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CustsegWarning)
            yield
    except typer.Exit:
        raise
    except CustsegError as exc:
        if _state["debug"]:
            traceback.print_exc()
        code = EXIT_ENGINE if isinstance(exc, EngineError) else EXIT_BAD_INPUT
        message = as_flags(str(exc), exc.parameters) if isinstance(exc, InputError) else exc
        raise fail(_one_line(str(message)), code) from None
    except KeyboardInterrupt:
        raise fail("interrupted", 130) from None
    except MemoryError:
        raise fail("out of memory; try --engine chunked or a smaller input", 1) from None
    except Exception as exc:  # the last line of defence: never a bare traceback
        if _state["debug"]:
            traceback.print_exc()
        raise fail(
            f"internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(rerun with --debug and report it)",
            EXIT_INTERNAL,
        ) from None
    finally:
        # Printed once the recording has stopped: a line written while recording
        # would be recorded again.
        for line in warning_lines(caught):
            sys.stderr.write(line + "\n")


def _usage_line(exc: Exception) -> str:
    """A usage error (unknown option, missing argument, bad value) as one line."""
    ctx = getattr(exc, "ctx", None)
    where = f"; see '{ctx.command_path} --help'" if ctx is not None else ""
    message = exc.format_message().rstrip(".")  # type: ignore[attr-defined]
    return f"custseg: error: {_one_line(message)}{where}"


#: The command modules, in the order ``custseg --help`` lists their commands.
COMMANDS = (
    "demo", "score", "segment", "features", "compare", "report", "drift", "dashboard", "serve",
)  # fmt: skip


def load_commands(args: Sequence[str] = ()) -> None:
    """Register the command named first in ``args`` on :data:`app`, or every command.

    A command module registers its command when imported; loading only the one
    that runs spares it the others' imports (start-up time of ``custseg score``).
    """
    named = next((a for a in args if not a.startswith("-")), None)
    for name in (named,) if named in COMMANDS else COMMANDS:
        importlib.import_module(f"custseg.cli.{name}")


def _exit_code(command: Callable[[], object]) -> int:
    """Run ``command`` as Typer would: its ``typer.Exit`` gives the exit code."""
    try:
        command()
    except typer.Exit as exc:
        return exc.exit_code
    except (EOFError, KeyboardInterrupt):
        raise typer.Abort() from None  # as click turns them, for main() to word
    return 0


def main() -> None:
    """Entry point of the ``custseg`` console script."""
    # A plain `custseg score|segment ...` line skips Typer's parsing (see custseg.cli._quick).
    quick = quick_command(sys.argv[1:])
    if quick is None:
        load_commands(sys.argv[1:])
    # Broken pipes (custseg ... | head) should end quietly.
    try:
        # Not standalone: click's usage errors come here, to be one line like every error.
        code = app(standalone_mode=False) if quick is None else _exit_code(quick)
    except getattr(usage_errors, "NoArgsIsHelpError", ()) as exc:
        typer.echo(exc.ctx.get_help())
        sys.exit(EXIT_BAD_INPUT)
    except usage_errors.ClickException as exc:
        sys.stderr.write(_usage_line(exc) + "\n")
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("custseg: error: aborted\n")
        sys.exit(EXIT_INTERNAL)
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    # Every object still alive is freed with the process: the interpreter's last
    # sweeps over them all (tens of milliseconds after a big table) are skipped.
    gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)

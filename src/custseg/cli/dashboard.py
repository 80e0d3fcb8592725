"""``custseg dashboard``: start the interactive Streamlit dashboard."""

from __future__ import annotations

import importlib.util
import signal
import subprocess
import sys
from types import FrameType

import typer

from custseg.cli._common import app, fail

__all__ = ["dashboard"]

_EXTRA_HINT = "the dashboard needs Streamlit: pip install 'custseg[dashboard]'"


@app.command()
def dashboard(
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to listen on."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; 0.0.0.0 exposes the dashboard."
    ),
) -> None:
    """Open the dashboard: upload a table or use the sample, segment it, explore, download."""
    if importlib.util.find_spec("streamlit") is None:
        raise fail(_EXTRA_HINT)
    from custseg.dashboard import APP_PATH

    command = [
        sys.executable, "-m", "streamlit", "run", str(APP_PATH),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    typer.echo(f"custseg dashboard on http://{host}:{port} (Ctrl+C stops it)")
    raise typer.Exit(run_child(command))


def run_child(command: list[str]) -> int:
    """Run ``command`` until it ends; SIGTERM, SIGHUP or Ctrl+C here stop it too.

    A service manager stops ``custseg dashboard`` with SIGTERM: passed on to the
    Streamlit child, so no server is left holding the port. Returns the exit code
    (0 when stopped by a signal).
    """
    child = subprocess.Popen(command)
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                stop(signal.SIGINT, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if child.poll() is None:  # the child ignored SIGTERM
            child.kill()
            child.wait()
    return 0 if stopping else code

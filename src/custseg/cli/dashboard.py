"""``custseg dashboard``: start the interactive Streamlit dashboard."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

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
    try:
        code = subprocess.call(command)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)

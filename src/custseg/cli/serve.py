"""``custseg serve``: run the scoring service for one model under uvicorn."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from custseg.cli._common import app, fail, reporting_errors

__all__ = ["serve"]

_EXTRA_HINT = "the scoring service needs FastAPI and uvicorn: pip install 'custseg[api]'"


@app.command()
def serve(
    model: Path = typer.Argument(..., help="model.json from custseg segment (or its folder)."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; 0.0.0.0 exposes the service to the network."
    ),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    api_key_file: Path | None = typer.Option(
        None,
        "--api-key-file",
        help="File holding an API key; then every endpoint but /healthz needs "
        "'Authorization: Bearer <key>'. The CUSTSEG_API_KEY variable works too.",
    ),
) -> None:
    """Serve MODEL over HTTP: POST /v1/score, GET /v1/model, GET /healthz, /docs."""
    try:
        import uvicorn

        from custseg.api import Settings, create_app
    except ImportError:
        raise fail(_EXTRA_HINT) from None
    with reporting_errors():
        settings = Settings.from_env(model_path=model, api_key_file=api_key_file)
        # Build the app once here so that a bad model or key file fails now, with one
        # line, instead of inside uvicorn's worker start-up.
        create_app(settings)
    if host not in ("127.0.0.1", "localhost", "::1") and settings.resolved_api_key() is None:
        sys.stderr.write(
            f"custseg: warning: serving on {host} without an API key; anyone who can reach "
            "this port can score customers (set --api-key-file or CUSTSEG_API_KEY)\n"
        )
    # Worker processes rebuild the app from the environment (uvicorn's factory mode);
    # the key itself stays in its file or in CUSTSEG_API_KEY, never on a command line.
    os.environ[Settings.env_names()["model_path"]] = str(settings.model_path.resolve())
    if settings.api_key_file is not None:
        os.environ[Settings.env_names()["api_key_file"]] = str(settings.api_key_file.resolve())
    uvicorn.run(
        "custseg.api:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        # Access lines carry method, path and status only; bodies are never logged.
        access_log=True,
        server_header=False,
    )

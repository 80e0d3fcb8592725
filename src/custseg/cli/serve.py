"""``custseg serve``: run the scoring service for one model under uvicorn."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TypedDict

import typer

import custseg
from custseg.cli._common import app, fail, reporting_errors

__all__ = ["WORKER_START_SECONDS", "serve"]

#: Seconds a worker may take to answer the supervisor's first health ping.
WORKER_START_SECONDS = 60


class _ServerOptions(TypedDict):
    """The uvicorn options shared by the one-process and the worker-pool runs."""

    host: str
    port: int
    log_level: str
    access_log: bool
    server_header: bool
    log_config: dict[str, Any]


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
    """Serve MODEL over HTTP: POST /v1/score, GET /v1/model, GET /healthz, /docs.

    The model is read and checked once; every worker serves that same model (pinned
    by its version), whatever happens to the file afterwards. /healthz says when the
    file no longer holds the served model: restart to serve the new one.
    """
    try:
        import uvicorn

        from custseg.api import Settings, create_app
        from custseg.api.logs import log_config
    except ImportError:
        raise fail(_EXTRA_HINT) from None
    with reporting_errors():
        settings = Settings.from_env(model_path=model, api_key_file=api_key_file)
        # Loaded and checked once, here: a bad model or key file fails now, with one
        # line, instead of inside uvicorn's worker start-up.
        fitted = custseg.load_model(settings.model_path)
        service = create_app(settings, model=fitted)
    if host not in ("127.0.0.1", "localhost", "::1") and settings.resolved_api_key() is None:
        sys.stderr.write(
            f"custseg: warning: serving on {host} without an API key; anyone who can reach "
            "this port can score customers (set --api-key-file or CUSTSEG_API_KEY)\n"
        )
    # Access lines carry method, path (no query string) and status; bodies are never logged.
    options = _ServerOptions(
        host=host,
        port=port,
        log_level="info",
        access_log=True,
        server_header=False,
        log_config=log_config(),
    )
    if workers == 1:
        uvicorn.run(service, **options)
        return
    # Worker processes build their app from the environment (uvicorn's factory mode),
    # from a private copy of the model that no one else writes, and refuse to start
    # unless it is the version loaded here. The key stays in its file or in
    # CUSTSEG_API_KEY, never on a command line.
    names = Settings.env_names()
    with tempfile.TemporaryDirectory(prefix="custseg-serve-") as folder:
        pinned = fitted.save(Path(folder) / "model.json")
        os.environ[names["model_path"]] = str(pinned)
        os.environ[names["model_version"]] = service.state.card["model_version"]
        os.environ[names["model_origin"]] = str(settings.model_path.resolve())
        if settings.api_key_file is not None:
            os.environ[names["api_key_file"]] = str(settings.api_key_file.resolve())
        uvicorn.run(
            "custseg.api:create_app_from_env",
            factory=True,
            workers=workers,
            # A worker imports pandas and scikit-learn before it answers uvicorn's
            # ping; on a busy machine that takes longer than uvicorn's 5 s default,
            # and a worker killed for it would be restarted again and again.
            timeout_worker_healthcheck=WORKER_START_SECONDS,
            **options,
        )

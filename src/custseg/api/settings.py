"""Typed settings of the scoring service, declared once.

Every setting is a field of :class:`Settings` with its environment variable and
its help text; ``custseg serve --help``, ``docs/api.md`` and
:meth:`Settings.from_env` all read this one table, and a test fails when a
setting is missing from the docs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo

from custseg.errors import InputError
from custseg.input_checks import RANGE_TOLERANCE

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_MAX_CONCURRENT",
    "DEFAULT_MAX_CUSTOMERS",
    "Settings",
]

DEFAULT_MAX_CUSTOMERS = 10_000
# 10,000 customers with a few dozen features each fit comfortably; anything bigger
# is a batch job for `custseg score`.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
# Scoring requests one worker holds at once (bodies being read, or being scored): with
# the largest bodies that is 8 x 16 MiB of request data at most.
DEFAULT_MAX_CONCURRENT = 8
# 16 MiB take 13 s at 10 Mbit/s; a client slower than that should send smaller batches.
DEFAULT_BODY_TIMEOUT = 30.0


def _env(name: str) -> dict[str, Any]:
    return {"env": name}


def _env_name(field: FieldInfo) -> str:
    """The environment variable of a setting declared with ``_env``."""
    extra = field.json_schema_extra
    if not isinstance(extra, dict):
        raise TypeError("every setting names its environment variable with _env(...)")
    return str(extra["env"])


class Settings(BaseModel):
    """Settings of one scoring service.

    Attributes
    ----------
    model_path : Path
        The ``model.json`` to serve (or a run folder holding one).
    api_key : SecretStr or None, default=None
        When set, every endpoint except ``/healthz`` needs ``Authorization: Bearer <key>``.
    api_key_file : Path or None, default=None
        A file whose stripped content is the API key; used when ``api_key`` is unset.
    max_customers : int, default=10000
        Most customers one ``POST /v1/score`` may carry; more gives 413.
    max_body_bytes : int, default=16 MiB
        Largest request body accepted; a larger one gives 413.
    range_tolerance : float, default=0.5
        The range rule of :func:`custseg.input_checks.far_outside`.
    max_concurrent : int, default=8
        Most scoring requests one worker holds at once; more gives 503.
    body_timeout : float, default=30
        Seconds a client may take to send a request body; slower gives 408.
    model_version : str or None, default=None
        When set, the service refuses to start unless the model's version is this one.
    model_origin : Path or None, default=None
        The model file as the user named it, when the service serves a pinned copy.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_path: Path = Field(
        description="model.json to serve, or a run folder that holds one.",
        json_schema_extra=_env("CUSTSEG_MODEL"),
    )
    api_key: SecretStr | None = Field(
        default=None,
        description=(
            "API key; when set, every endpoint except /healthz needs 'Authorization: Bearer <key>'."
        ),
        json_schema_extra=_env("CUSTSEG_API_KEY"),
    )
    api_key_file: Path | None = Field(
        default=None,
        description="File holding the API key (surrounding whitespace ignored).",
        json_schema_extra=_env("CUSTSEG_API_KEY_FILE"),
    )
    max_customers: int = Field(
        default=DEFAULT_MAX_CUSTOMERS,
        ge=1,
        le=1_000_000,
        description="Most customers in one scoring request; more gives 413.",
        json_schema_extra=_env("CUSTSEG_MAX_CUSTOMERS"),
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        description="Largest request body in bytes; a larger one gives 413.",
        json_schema_extra=_env("CUSTSEG_MAX_BODY_BYTES"),
    )
    range_tolerance: float = Field(
        default=RANGE_TOLERANCE,
        ge=0,
        allow_inf_nan=False,
        description=(
            "A value is flagged in 'warnings' when it lies beyond the training min/max by "
            "more than this multiple of the training range."
        ),
        json_schema_extra=_env("CUSTSEG_RANGE_TOLERANCE"),
    )

    max_concurrent: int = Field(
        default=DEFAULT_MAX_CONCURRENT,
        ge=1,
        le=10_000,
        description=(
            "Most scoring requests one worker holds at once (reading or scoring); more gives "
            "503 with Retry-After."
        ),
        json_schema_extra=_env("CUSTSEG_MAX_CONCURRENT"),
    )
    body_timeout: float = Field(
        default=DEFAULT_BODY_TIMEOUT,
        gt=0,
        allow_inf_nan=False,
        description="Seconds a client may take to send a request body; slower gives 408.",
        json_schema_extra=_env("CUSTSEG_BODY_TIMEOUT"),
    )
    model_version: str | None = Field(
        default=None,
        description=(
            "Refuse to start unless the model's version (model_version of GET /v1/model) is "
            "this one; custseg serve sets it so that every worker serves the same model."
        ),
        json_schema_extra=_env("CUSTSEG_MODEL_VERSION"),
    )
    model_origin: Path | None = Field(
        default=None,
        description=(
            "The model file as the user named it, when the service serves a pinned copy of "
            "it; /healthz says whether that file still holds the served model."
        ),
        json_schema_extra=_env("CUSTSEG_MODEL_ORIGIN"),
    )

    @classmethod
    def env_names(cls) -> dict[str, str]:
        """Field name → environment variable."""
        return {name: _env_name(field) for name, field in cls.model_fields.items()}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``CUSTSEG_*`` environment variables, then ``overrides``.

        Raises
        ------
        InputError
            A value is invalid; the message names the variable and the rule.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, var in cls.env_names().items():
            if environ.get(var, "") != "":
                values[name] = environ[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            err = exc.errors()[0]
            name = str(err["loc"][0]) if err["loc"] else "settings"
            var = cls.env_names().get(name, name)
            raise InputError(
                f"setting {name} ({var}) is invalid: {err['msg']}; got {err.get('input')!r}"
            ) from None

    def resolved_api_key(self) -> str | None:
        """The API key from ``api_key`` or ``api_key_file``; None when neither is set.

        Raises
        ------
        InputError
            The key file cannot be read or is empty.
        """
        if self.api_key is not None and self.api_key.get_secret_value():
            return self.api_key.get_secret_value()
        if self.api_key_file is None:
            return None
        # The one file the service reads besides the model; it holds a secret, so it
        # is read here rather than through custseg.io's table readers.
        try:
            key = self.api_key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                f"could not read the API key file '{self.api_key_file}': {exc}; check the path"
            ) from None
        if not key:
            raise InputError(
                f"the API key file '{self.api_key_file}' is empty; write the key into it"
            )
        return key

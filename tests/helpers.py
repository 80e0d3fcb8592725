"""Helpers shared by the tests: run folders checked against the published schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def _validator(name: str) -> Draft202012Validator:
    schema = json.loads((DOCS / name).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


SUMMARY_SCHEMA = _validator("summary.schema.json")
MODEL_SCHEMA = _validator("model.schema.json")


def schema_errors(document: dict[str, Any], validator: Draft202012Validator) -> list[str]:
    """Every way ``document`` breaks the schema, as ``path: message`` lines."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def assert_published_shape(run_folder: Path) -> None:
    """``summary.json`` and ``model.json`` of a run folder match the published schemas."""
    for name, validator in (("summary.json", SUMMARY_SCHEMA), ("model.json", MODEL_SCHEMA)):
        document = json.loads((run_folder / name).read_text(encoding="utf-8"))
        errors = schema_errors(document, validator)
        assert not errors, f"{name}: " + "; ".join(errors)

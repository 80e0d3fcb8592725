"""The one quality vocabulary: thresholds, words, and the docs' table."""

from __future__ import annotations

from pathlib import Path

import pytest

from custseg.verdicts import (
    VOCABULARY,
    segment_trust,
    silhouette_reading,
    silhouette_verdict,
    stability_verdict,
    vocabulary_markdown,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "verdicts.md"


@pytest.mark.parametrize(
    ("value", "verdict"),
    [(0.9, "clear"), (0.51, "clear"), (0.50, "weak"), (0.42, "weak"), (0.26, "weak"),
     (0.25, "none"), (-0.1, "none"), (None, "unknown"), (float("nan"), "unknown")],
)  # fmt: skip
def test_silhouette_bands(value, verdict):
    assert silhouette_verdict(value) == verdict


def test_silhouette_reading_says_the_verdict_in_words():
    assert silhouette_reading(0.417) == "0.42: weak structure"
    assert silhouette_reading(0.2) == "0.20: no structure"
    assert silhouette_reading(0.61) == "0.61: clear structure"
    assert silhouette_reading(None) == "not computed"


@pytest.mark.parametrize(
    ("value", "verdict"),
    [(0.9, "stable"), (0.75, "stable"), (0.7499, "weak"), (0.60, "weak"), (0.5999, "unstable"),
     (None, "unknown")],
)  # fmt: skip
def test_stability_bands(value, verdict):
    assert stability_verdict(value) == verdict


def test_segment_trust_for_an_at_a_glance_table():
    stable = segment_trust(0.944, 0.03)
    assert (stable.verdict, stable.mark, stable.text) == ("stable", "", "stable (0.94)")
    weak = segment_trust(0.679, 0.23)
    assert (weak.verdict, weak.mark, weak.text) == ("weak", "?", "weak (0.67); 23% borderline")
    assert weak.sentence == (
        "The segment comes back only partly when the data is resampled: check it before "
        "acting on it. 23% of its customers are borderline."
    )
    # Rounded down: 0.599 is unstable and must not print as 0.60.
    assert segment_trust(0.599).text == "unstable (0.59)"
    assert segment_trust(None).text == "not assessed"


def test_every_word_is_defined_once_per_scale():
    keys = [(v.scale, v.word) for v in VOCABULARY]
    assert len(keys) == len(set(keys))


def test_the_docs_table_is_the_modules():
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("<!-- vocabulary table: generated, do not edit by hand -->\n")
    end = text.index("<!-- end of vocabulary table -->")
    table = text[start:end].split("\n", 1)[1]
    assert table == vocabulary_markdown(), (
        "docs/verdicts.md is out of date: paste custseg.verdicts.vocabulary_markdown() "
        "between its markers"
    )

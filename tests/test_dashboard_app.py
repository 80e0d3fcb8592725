"""The dashboard's flow in Streamlit's AppTest: sample → segments → downloads → scoring."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest
from tests.conftest import run_cli

from custseg.dashboard import APP_PATH
from custseg.model import SegmentModel
from custseg.serving import SegmentMap

TIMEOUT = 240


@pytest.fixture(scope="module")
def segmented():
    """The app after pressing Segment with the defaults (bundled sample, automatic K)."""
    at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert [i.value for i in at.info] == [
        "Choose the options in the sidebar and press **Segment**."
    ]
    at.button(key="FormSubmitter:options-Segment").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def cli_demo(tmp_path_factory):
    """`custseg demo`: the same sample and the same default options, from the CLI."""
    out = tmp_path_factory.mktemp("demo")
    proc = run_cli("demo", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_sample_to_segments(segmented):
    at = segmented
    assert not at.error
    headers = [h.value for h in at.subheader]
    for section in ("Segment map", "Choosing K", "Profiles", "Personas", "Downloads"):
        assert section in headers
    (roles,) = [d.value for d in at.dataframe if "role" in d.value.columns]
    detected = dict(zip(roles["column"], roles["role"], strict=True))
    assert detected["CustomerID"] == "id" and detected["Gender"] == "categorical"
    assert detected["Age"] == "numeric"
    run = at.session_state["run"]
    summary = run.result.summary
    assert summary["input"]["rows"] == 200
    assert summary["features"] == ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    k = summary["k"]
    assert at.metric[0].value == str(k)
    (profiles,) = [d.value for d in at.dataframe if "share" in d.value.columns]
    assert len(profiles) == k
    assert profiles["size"].sum() == 200


def test_map_draws_a_seeded_sample_of_large_tables(segmented):
    from custseg.dashboard.views import map_frame

    run = segmented.session_state["run"]
    full, total = map_frame(run)
    assert (len(full), total) == (200, 200)
    sample, total = map_frame(run, max_points=50)
    assert (len(sample), total) == (50, 200)
    again, _ = map_frame(run, max_points=50)
    assert sample.equals(again)  # seeded: the same points every rerun
    assert set(sample["segment"]) <= set(full["segment"])


def test_downloads_are_the_cli_files(segmented, cli_demo):
    at = segmented
    labels = [b.label for b in at.get("download_button")]
    assert {"segments.csv", "model.json", "summary.json"} <= set(labels)
    files = at.session_state["run"].files
    # Same sample, same options, same seed: byte-identical to `custseg demo`.
    assert files["segments.csv"] == (cli_demo / "segments.csv").read_bytes()
    assert files["model.json"] == (cli_demo / "model.json").read_bytes()
    assert json.loads(files["summary.json"])["k"] == at.session_state["run"].result.summary["k"]
    if (cli_demo / "report.html").exists():
        assert "report.html" in labels
        assert (
            files["report.html"].startswith(b"<!DOCTYPE html>")
            or b"<html" in files["report.html"][:500]
        )


def test_score_one_customer_lands_on_the_map(segmented):
    at = segmented
    model: SegmentModel = at.session_state["run"].result.model
    names = model.feature_names
    values = {"Age": 25.0, "Annual Income (k$)": 130.0, "Spending Score (1-100)": 95.0}
    for j, name in enumerate(names):
        at.number_input(key=f"score_{j}").set_value(values[name])
    at.button(key="FormSubmitter:score_one-Score").click().run()
    assert not at.exception, [e.value for e in at.exception]
    scored = at.session_state["scored"]
    expected = model.predict_matrix(np.array([[values[n] for n in names]]))
    assert scored["record"]["segment"] == int(expected["segment"][0])
    assert scored["record"]["distance_to_center"] == float(expected["distance_to_center"][0])
    assert any(scored["record"]["segment_name"] in s.value for s in at.success)
    # What to do with this customer, and how typical a member it is.
    assert any(m.value.startswith("Suggested action — **") for m in at.markdown)
    assert any("typical members are" in c.value for c in at.caption)
    if importlib.util.find_spec("custseg.explain") is not None:
        (why,) = [m.value for m in at.markdown if m.value.startswith("**Why this segment:**")]
        assert scored["record"]["segment_name"] in why
    seg_map = SegmentMap(model).fit(at.session_state["run"].result.X)
    xy = seg_map.transform(np.array([[values[n] for n in names]]))[0]
    assert (scored["x"], scored["y"]) == pytest.approx((xy[0], xy[1]))


def test_far_out_customer_is_warned(segmented):
    at = segmented
    at.number_input(key="score_0").set_value(400.0)  # Age 400
    at.button(key="FormSubmitter:score_one-Score").click().run()
    # Outside the training range: a warning naming the segment, never a green success box.
    assert not at.success
    (warning,) = [w.value for w in at.warning if "far above the training range" in w.value]
    assert "outside the range the model was trained on" in warning
    assert at.session_state["scored"]["record"]["segment_name"] in warning


def test_distance_context_places_a_customer_among_the_members(segmented):
    from custseg.dashboard.views import distance_context

    run = segmented.session_state["run"]
    table = run.result.table
    members = table.loc[table["segment"] == 0, "distance_to_center"].to_numpy(dtype=float)
    assert "as close as a typical member" in distance_context(run, 0, float(members.min()))
    far = distance_context(run, 0, float(members.max()) * 2)
    assert "100% of members are at least as close" in far and "weak fit" in far


def test_bad_options_show_an_error_not_a_traceback():
    at = AppTest.from_file(str(APP_PATH), default_timeout=TIMEOUT)
    at.run()
    at.radio(key="k_mode").set_value("Fixed")
    at.number_input(key="k").set_value(50)
    at.number_input(key="rows").set_value(20)
    at.button(key="FormSubmitter:options-Segment").click().run()
    assert not at.exception
    (error,) = at.error
    assert "k=50 is larger than" in error.value


def test_without_the_report_extra_the_page_degrades(monkeypatch):
    import custseg
    import custseg.report
    from custseg.dashboard.views import run_segmentation

    monkeypatch.setattr(custseg.report, "report_available", lambda: False)
    frame = custseg.make_customers(120, random_state=0).astype(str)
    run = run_segmentation(frame, {"k": 3, "random_state": 42})
    assert "report.html" not in run.files and "segments.csv" in run.files
    assert "pip install 'custseg[report]'" in run.report_note
    assert run.report_charts == []
    assert [p["label"] for p in run.personas] == [
        f"{s['id']} · {s['name']}" for s in run.result.summary["segments"]
    ]

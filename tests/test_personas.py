"""Persona sentences and suggested actions, pinned on small hand-made profiles."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from custseg.features.facts import Fact, category_facts, describe_value, numeric_facts
from custseg.features.kinds import column_kind
from custseg.report.personas import ACTIONS, choose_action, make_personas

FLAG = {"min": 0, "max": 1, "mean": 0.15, "quantiles": [0] * 10 + [1]}
SHARE = {"min": 0, "max": 1, "quantiles": [0, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 1]}
GROCERY = {
    "min": 3,
    "max": 92780,
    "mean": 7951,
    "std": 9503,
    "quantiles": [3, 1400, 2100, 2800, 3600, 4756, 6200, 8300, 12000, 18000, 92780],
}
ORDERS = {"min": 0, "max": 40, "quantiles": [0, 1, 1, 2, 2, 2, 3, 3, 4, 6, 40]}


@pytest.mark.parametrize(
    ("name", "stats", "value", "overall", "z", "size", "expected"),
    [
        ("Annual Income (k$)", None, 86.5, 60.6, 1.1, None,
         "income 43% above average (86.5 vs 60.6 k$)"),
        # A bounded score is a score, never "64% above average" as if it were money.
        ("Spending Score (1-100)", None, 81.0, 50.0, 1.2, None,
         "spending score 81 of 100, well above the average 50"),
        ("Spending Score (1-100)", None, 40.0, 50.0, -0.4, None,
         "spending score 40 of 100, below the average 50"),
        ("Spending Score (1-100)", None, 15.8, 50.2, -1.6, None,
         "spending score 15.8 of 100, far below the average 50.2"),
        # A share of few customers gives the count.
        ("AcceptedCmp5", FLAG, 0.6, 0.15, 1.3, 20,
         "60% accepted campaign 5 (12 of 20; 15% overall)"),
        ("AcceptedCmp5", FLAG, 0.6, 0.15, 1.3, 400, "60% accepted campaign 5 (15% overall)"),
        ("Gender=Female", FLAG, 0.72, 0.56, 0.8, 50, "72% female (36 of 50; 56% overall)"),
        ("Contract=Two year", FLAG, 0.47, 0.24, 0.6, 3080,
         "47% two-year contract (24% overall)"),
        ("return_rate", SHARE, 0.45, 0.106, 1.3, None, "return rate 45% (11% overall)"),
        ("Grocery", GROCERY, 20300.0, 7951.0, 1.3, None,
         "grocery 2.6 times the average (20,300 vs 7,951)"),
        ("Orders", ORDERS, 5.0, 2.5, 1.0, None, "orders twice the average (5 vs 2.5)"),
        ("monetary", None, 0.0, 1911.0, -0.3, None, "almost no spend (0 vs 1,911)"),
        ("Revenue (€)", None, 2600.0, 1000.0, 1.7, None,
         "revenue 2.6 times the average (€2,600 vs €1,000)"),
        ("Age", None, 64.8, 38.9, 1.85, None, "average age 64.8 (38.9 overall)"),
        ("Year_Birth", None, 1958.4, 1968.8, -0.9, None, "born in 1958 on average (1969 overall)"),
        ("Months_on_book", None, 42.6, 35.9, 0.8, None,
         "months on book 42.6 on average (35.9 overall)"),
        ("Balance", None, -50.0, 10.0, -1.2, None, "balance -50 on average (10 overall)"),
    ],
)  # fmt: skip
def test_each_kind_is_described_as_what_it_is(name, stats, value, overall, z, size, expected):
    text, _ = describe_value(column_kind(name, stats), value, overall, z, size=size)
    assert text == expected


def test_short_forms_for_a_table_cell():
    score = column_kind("Spending Score (1-100)")
    assert describe_value(score, 82.1, 50.2, 1.2)[1] == "spending score 82.1/100 (avg 50.2)"
    income = column_kind("Annual Income (k$)")
    assert describe_value(income, 86.5, 60.6, 1.1)[1] == "income 86.5 k$ (avg 60.6)"


def test_a_code_value_named_as_a_feature_reads_with_its_column():
    # Region named in --features becomes indicators Region=1, Region=2, Region=3:
    # "3 62%" would say nothing, "region 3 62%" does; "female" says what it is.
    region = column_kind("Region=3", {"min": 0, "max": 1}, role="code")
    text, short = describe_value(region, 0.62, 0.71, -0.3)
    assert short == "region 3 62% (avg 71%)"
    assert text.startswith("62% region 3 (") and "overall" in text
    female = column_kind("Gender=Female", {"min": 0, "max": 1})
    assert describe_value(female, 0.62, 0.48, 0.5)[1] == "female 62% (avg 48%)"


def test_numeric_facts_skip_codes_and_keep_amounts_at_half_the_mean():
    kinds = [
        column_kind("Grocery", GROCERY),
        column_kind("Region", {"min": 1, "max": 3}, role="code"),
        column_kind("Age"),
    ]
    segment = {"mean": {"Grocery": 3975.0, "Region": 2.9, "Age": 40.0},
               "z": {"Grocery": -0.42, "Region": 1.4, "Age": 0.1}}  # fmt: skip
    facts = numeric_facts(segment, kinds, {"Grocery": 7951.0, "Region": 2.5, "Age": 39.0})
    assert [f.text for f in facts] == ["grocery 50% below average (3,975 vs 7,951)"]
    assert (facts[0].signal, facts[0].effect) == ("value", -1)


def test_a_code_named_as_a_feature_gives_one_fact_its_most_over_represented_value():
    # Channel 1/2/3 as indicators: "channel 2 3%; channel 1 97%" says one thing twice.
    channels = ["Channel=1", "Channel=2", "Channel=3"]
    kinds = [column_kind(f, FLAG) for f in channels] + [column_kind("Grocery", GROCERY)]
    segment = {
        "mean": {"Channel=1": 0.97, "Channel=2": 0.03, "Channel=3": 0.0, "Grocery": 3900.0},
        "z": {"Channel=1": 0.9, "Channel=2": -1.3, "Channel=3": -0.6, "Grocery": -0.45},
    }
    overall = {"Channel=1": 0.62, "Channel=2": 0.3, "Channel=3": 0.08, "Grocery": 7951.0}
    facts = numeric_facts(segment, kinds, overall, size=300)
    assert [f.feature for f in facts] == ["Channel=1", "Grocery"]
    assert facts[0].short == "channel 1 97% (avg 62%)"


def _shares(column: str, counts: dict[str, dict[str, int]]) -> pd.DataFrame:
    """category_shares-shaped rows from segment → category → count."""
    rows = []
    total = pd.DataFrame(counts).T.fillna(0).sum()
    for cat, n in total.items():
        rows.append({"column": column, "category": cat, "segment": "All customers",
                     "share": n / total.sum()})  # fmt: skip
    for seg, cats in counts.items():
        size = sum(cats.values())
        for cat, n in cats.items():
            rows.append({"column": column, "category": cat, "segment": seg, "share": n / size})
    return pd.DataFrame(rows)


def test_a_category_share_from_few_customers_without_a_link_is_not_told():
    # 12 of 20 male (60%) against 44% overall, and gender shows no link to the segments.
    counts = {"0 · A": {"Male": 36, "Female": 64}, "1 · B": {"Male": 40, "Female": 40},
              "2 · C": {"Male": 12, "Female": 8}}  # fmt: skip
    sizes = {s: sum(c.values()) for s, c in counts.items()}
    facts = category_facts(_shares("Gender", counts), sizes)
    assert facts == {"0 · A": [], "1 · B": [], "2 · C": []}


def test_a_linked_and_different_category_is_told_with_its_count_when_few():
    counts = {"0 · A": {"Male": 20, "Female": 100}, "1 · B": {"Male": 41, "Female": 9},
              "2 · C": {"Male": 30, "Female": 30}}  # fmt: skip
    sizes = {s: sum(c.values()) for s, c in counts.items()}
    facts = category_facts(_shares("Gender", counts), sizes)
    # One fact per column: "18% Female" would only repeat "82% Male".
    assert [f.text for f in facts["1 · B"]] == ["Gender: 82% Male (41 of 50; 40% overall)"]
    assert [f.text for f in facts["0 · A"]] == ["Gender: 83% Female (60% overall)"]
    assert facts["2 · C"] == []  # 50% Male against 40%: under the 15-point gap


def _fact(feature: str, signal: str | None, effect: int, text: str = "x", kind: str = "money"):
    return Fact(feature, kind, signal, effect, effect, 1.0, 1.0, 1.0, text, text)


def test_a_cash_advance_heavy_segment_gets_a_risk_action_not_cross_selling():
    kinds = {"CASH_ADVANCE": column_kind("CASH_ADVANCE"), "PURCHASES": column_kind("PURCHASES")}
    facts = [
        _fact("CASH_ADVANCE", "risk", 1, "cash advance 3.1 times the average (2,100 vs 680)"),
        _fact("PURCHASES", "value", 1),
    ]
    action = choose_action(0, facts, kinds)
    assert (action.rule, action.title) == (2, "Check the risk first")
    assert action.text == (
        "Their cash advance is above average: find out why before promoting to them, and keep "
        "offers that add to it out of their campaigns."
    )
    assert action.because == "cash advance 3.1 times the average (2,100 vs 680)"


def test_when_no_rule_applies_the_persona_says_so():
    action = choose_action(0, [_fact("Page views", None, 0)], {})
    assert action.rule == 18 and action.title == "No rule applies"
    assert "no spend, frequency, recency or risk signal sets it apart" in action.text


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        ([_fact("Churn=Yes", "churn", 1, kind="category"), _fact("monetary", "value", 1)], 3),
        ([_fact("recency_days", "recency", 1), _fact("monetary", "value", 1)], 4),
        ([_fact("monetary", "value", 1), _fact("frequency", "frequency", 1)], 5),
        ([_fact("monetary", "value", 1), _fact("tenure", "tenure", 1)], 5),
        ([_fact("monetary", "value", 1)], 7),
        ([_fact("Income", "means", 1), _fact("monetary", "value", -1)], 8),
        ([_fact("frequency", "frequency", 1)], 9),
        ([_fact("Response", "response", 1, kind="flag")], 10),
        ([_fact("tenure", "tenure", -1)], 11),
        ([_fact("tenure", "tenure", 1), _fact("monetary", "value", -1)], 12),
        ([_fact("monetary", "value", -1)], 13),
        ([_fact("recency_days", "recency", -1)], 14),
        ([_fact("Income", "means", -1)], 15),
        ([_fact("tenure", "tenure", 1)], 16),
        ([_fact("Age", "age", 1, kind="age")], 17),
        ([], 18),
    ],
)
def test_action_rule_first_match_wins(facts, rule):
    assert choose_action(0, facts, {}).rule == rule
    assert choose_action(-1, facts, {}).rule == 1


MALL = {
    "features": ["Age", "Annual Income (k$)", "Spending Score (1-100)"],
    "columns": [{"name": "Age", "role": "numeric"}],
    "segments": [
        {"id": 0, "name": "High income · High spending score", "size": 39, "share": 0.195,
         "mean": {"Age": 32.7, "Annual Income (k$)": 86.5, "Spending Score (1-100)": 82.1},
         "z": {"Age": -0.44, "Annual Income (k$)": 0.99, "Spending Score (1-100)": 1.24}},
        {"id": 1, "name": "Older", "size": 34, "share": 0.17,
         "mean": {"Age": 47.4, "Annual Income (k$)": 56.9, "Spending Score (1-100)": 49.6},
         "z": {"Age": 0.61, "Annual Income (k$)": -0.14, "Spending Score (1-100)": -0.02}},
        {"id": 2, "name": "Much older", "size": 20, "share": 0.1,
         "mean": {"Age": 64.8, "Annual Income (k$)": 53.1, "Spending Score (1-100)": 40.9},
         "z": {"Age": 1.86, "Annual Income (k$)": -0.29, "Spending Score (1-100)": -0.36}},
    ],
}  # fmt: skip
MALL["stability"] = {"segments": [{"id": 0, "jaccard": 0.981}, {"id": 1, "jaccard": 0.679}]}
MALL["borderline"] = {"by_segment": {"0": 0.0, "1": 0.24}}
MALL_STATS = {"Age": {"mean": 38.85, "min": 18}, "Annual Income (k$)": {"mean": 60.56, "min": 15},
              "Spending Score (1-100)": {"mean": 50.2, "min": 1}}  # fmt: skip


def test_mall_personas_read_well_and_claim_nothing_the_data_does_not_hold():
    top, older, much_older = make_personas(MALL, MALL_STATS)
    assert top.distinctions == [
        "spending score 82.1 of 100, well above the average 50.2",
        "income 43% above average (86.5 vs 60.6 k$)",
    ]
    assert top.key_facts == top.distinctions
    assert (top.rule, top.action_title) == (5, "Retain and reward")
    assert top.action == (
        "Their spending score and income are above average: give them priority service, early "
        "access or a higher tier, and watch for the first sign of a drop."
    )
    assert older.distinctions == ["average age 47.4 (38.9 overall)"]
    assert older.action == (
        "The segment differs mainly by age: choose channels and creative that suit older "
        "customers aged around 47. No spend, frequency or risk signal sets it apart."
    )
    assert much_older.action != older.action  # not the same words for two age groups
    assert top.trust.text == "stable (0.98)"
    assert older.trust.text == "weak (0.67); 24% borderline"
    assert much_older.trust.text == "not assessed"
    for p in (top, older, much_older):
        assert not any(w in p.action.lower() for w in ("loyal", "revenue", "protect"))


def test_wholesale_segments_get_actions_that_follow_their_own_profile():
    lines = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
    overall = dict(zip(lines, [12000, 5800, 7950, 3070, 2880, 1520], strict=True))
    profiles = [  # ratio of each line's mean to the overall mean, per segment
        [0.6, 0.6, 0.55, 0.8, 0.5, 0.7],
        [0.9, 2.5, 2.8, 0.4, 3.0, 1.0],
        [2.5, 0.8, 0.7, 2.2, 0.4, 1.2],
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    ]
    segments = []
    for i, ratios in enumerate(profiles):
        means = {f: overall[f] * r for f, r in zip(lines, ratios, strict=True)}
        z = {f: (r - 1) * 0.8 for f, r in zip(lines, ratios, strict=True)}
        segments.append(
            {"id": i, "name": f"s{i}", "size": 100, "share": 0.25, "mean": means, "z": z}
        )
    scale = {f: overall[f] / GROCERY["mean"] for f in lines}
    stats = {
        f: {
            "min": 0,
            "max": GROCERY["max"] * scale[f],
            "mean": overall[f],
            "std": GROCERY["std"] * scale[f],
            "quantiles": [q * scale[f] for q in GROCERY["quantiles"]],
        }
        for f in lines
    }
    personas = make_personas({"features": lines, "segments": segments}, stats)
    assert [p.rule for p in personas] == [13, 6, 6, 18]
    assert personas[1].action == (
        "Detergents paper, grocery and milk are well above average but frozen is below "
        "average: offer frozen alongside what they already buy."
    )
    low = [_real(f, stats[f], overall[f] * 0.4, overall[f], -0.6) for f in lines[2:5]]
    action = choose_action(0, low, {f: column_kind(f, stats[f]) for f in lines})
    assert action.text.startswith("Their grocery, frozen and detergents paper amounts are below")
    assert len({p.action for p in personas}) == len(personas)


def test_every_rule_has_a_title_and_a_summary():
    assert sorted(ACTIONS) == list(range(1, 19))
    assert all(title and text for title, text in ACTIONS.values())
    assert np.all([len(t) < 40 for t, _ in ACTIONS.values()])


def test_the_docs_list_every_rule():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "personas.md").read_text("utf-8")
    for rule, (title, _) in ACTIONS.items():
        assert f"| {rule} |" in docs and title in docs, title


def _real(feature: str, stats: dict | None, value: float, overall: float, z: float) -> Fact:
    """A fact made the way a run makes it, from the column and its figures."""
    segment = {"mean": {feature: value}, "z": {feature: z}}
    (fact,) = numeric_facts(segment, [column_kind(feature, stats)], {feature: overall})
    return fact


def test_value_led_offers_name_the_column_they_rest_on():
    # Mall's "Young · Low income": the action said only "Lead with good-value bundles".
    facts = [
        _real("Age", None, 25.4, 38.9, -0.96),
        _real("Annual Income (k$)", None, 40.0, 60.6, -0.8),
    ]
    action = choose_action(0, facts, {"Annual Income (k$)": column_kind("Annual Income (k$)")})
    assert (action.rule, action.text) == (
        15,
        "Their income is below average: lead with good-value bundles and price promotions.",
    )


def test_top_spenders_who_return_a_little_more_are_not_told_to_check_the_risk():
    # The strongest facts are spend and frequency; returns of 20% against 11% come fourth.
    facts = [
        _real("monetary", None, 157919.0, 1911.0, 8.0),
        _real("frequency", ORDERS, 136.0, 4.27, 7.0),
        _real("distinct_products", ORDERS, 529.0, 61.5, 5.0),
        _real("return_rate", SHARE, 0.20, 0.11, 0.6),
    ]
    kinds = {f.feature: column_kind(f.feature) for f in facts}
    action = choose_action(0, facts, kinds)
    assert (action.rule, action.title) == (5, "Retain and reward")
    assert action.text.endswith("Watch one risk: return rate 20% (11% overall).")
    # Among the strongest facts, the same risk decides the action.
    action = choose_action(0, [facts[0], facts[3]], kinds)
    assert action.rule == 2


def test_churn_is_its_own_action_and_reads_as_a_sentence():
    churn = Fact("Churn=Yes", "category", "churn", 1, 1, 2.0, 0.6, 0.27,
                 "Churn: 60% Yes (27% overall)", "x")  # fmt: skip
    action = choose_action(0, [churn, _fact("MonthlyCharges", "value", 1)], {})
    assert (action.rule, action.title) == (3, "Prevent churn")
    assert action.text.startswith("Churn stands out (churn: 60% Yes against 27% overall): ")
    assert column_kind("Attrition_Flag").signal == "churn"
    assert column_kind("CASH_ADVANCE").signal == "risk"


def test_a_long_gap_between_purchases_is_a_low_frequency_never_grow_the_basket():
    gap = _real("mean_days_between_purchases", None, 197.0, 66.1, 1.6)
    assert (gap.kind, gap.signal, gap.effect) == ("interval", "frequency", -1)
    assert gap.text == "days between purchases three times the average (197 vs 66.1)"
    spend = _real("monetary", None, 741.0, 1911.0, -0.3)
    tenure = _real("tenure_days", None, 294.0, 224.0, 0.6)
    kinds = {f.feature: column_kind(f.feature) for f in (gap, spend, tenure)}
    action = choose_action(0, [gap, tenure, spend], kinds)
    assert (action.rule, action.title) == (12, "Offer an upgrade")
    assert "but their spend and purchase frequency are below average" in action.text
    assert choose_action(0, [gap], kinds).rule == 13  # not 9, "Grow the basket"


def test_totals_and_predictions_of_spend_are_not_product_lines_to_cross_sell():
    names = ["monetary", "avg_order_value", "predicted_spend", "predicted_clv"]
    values = zip(names, [40.0, 900.0, 800.0, 700.0], [-0.8, 3.0, 3.0, 3.0], strict=True)
    facts = [_real(n, None, v, 100.0, z) for n, v, z in values]
    kinds = {n: column_kind(n) for n in names}
    action = choose_action(0, facts, kinds)
    assert (action.rule, action.title) == (7, "Keep them buying")


def test_the_same_customers_seen_through_two_columns_are_told_once():
    internet = {"0 · A": {"No": 820, "DSL": 100, "Fiber": 80},
                "1 · B": {"No": 60, "DSL": 500, "Fiber": 440},
                "2 · C": {"No": 0, "DSL": 300, "Fiber": 700}}  # fmt: skip
    # Device protection says "No internet service" for exactly the same customers.
    device = {s: {"No internet service": c["No"], "Yes": c["DSL"], "No": c["Fiber"]}
              for s, c in internet.items()}  # fmt: skip
    shares = pd.concat([_shares("InternetService", internet), _shares("DeviceProtection", device)])
    sizes = {s: sum(c.values()) for s, c in internet.items()}
    texts = [f.text for f in category_facts(shares, sizes)["0 · A"]]
    # Said once, and device protection says nothing else: its "10% Yes" is the DSL share.
    assert texts == ["Internet service: 82% No (29% overall)"], texts
    # Nor does a third column say "0% No": it only follows from "No internet service".
    device = {"0 · A": {"No internet service": 300}, "1 · B": {"Yes": 400, "No": 600}}
    security = {"0 · A": {"No internet service": 300}, "1 · B": {"Yes": 500, "No": 500}}
    shares = pd.concat([_shares("DeviceProtection", device), _shares("OnlineSecurity", security)])
    texts = [f.text for f in category_facts(shares, {"0 · A": 300, "1 · B": 1000})["0 · A"]]
    assert texts == ["Device protection: 100% No internet service (23% overall)"], texts


def test_a_category_named_as_a_feature_is_told_once_not_again_as_a_category():
    # Telco with InternetService in --features: "100% without internet service" was
    # followed by "Internet service: 100% No" and device protection "No internet service".
    internet = {"0 · A": {"No": 300, "DSL": 0, "Fiber optic": 0},
                "1 · B": {"No": 100, "DSL": 500, "Fiber optic": 400}}  # fmt: skip
    device = {s: {"No internet service": c["No"], "Yes": c["DSL"], "No": c["Fiber optic"]}
              for s, c in internet.items()}  # fmt: skip
    shares = pd.concat([_shares("InternetService", internet), _shares("DeviceProtection", device)])
    features = ["tenure", "InternetService=DSL", "InternetService=Fiber optic",
                "InternetService=No"]  # fmt: skip
    overall = {"tenure": 32.0, "InternetService=DSL": 0.385, "InternetService=Fiber optic": 0.308,
               "InternetService=No": 0.308}  # fmt: skip
    means = [{"tenure": 12.0, "InternetService=DSL": 0.0, "InternetService=Fiber optic": 0.0,
              "InternetService=No": 1.0},
             {"tenure": 38.0, "InternetService=DSL": 0.5, "InternetService=Fiber optic": 0.4,
              "InternetService=No": 0.1}]  # fmt: skip
    segments = [
        {"id": i, "name": "AB"[i], "size": n, "share": n / 1300, "mean": m,
         "z": {f: (m[f] - overall[f]) / (0.46 if "=" in f else 24.0) for f in features}}
        for i, (n, m) in enumerate(zip([300, 1000], means, strict=True))
    ]  # fmt: skip
    stats = {f: {"mean": overall[f], "min": 0, "max": 72 if f == "tenure" else 1} for f in features}
    first = make_personas({"features": features, "segments": segments}, stats, shares)[0]
    assert first.distinctions == [
        "100% without internet service (31% overall)",
        "tenure 12 on average (32 overall)",
    ]


def test_a_code_named_as_a_feature_reads_as_its_category():
    kind = column_kind("Channel=2", FLAG)
    assert describe_value(kind, 0.62, 0.4, 0.9)[0] == "62% channel 2 (40% overall)"


def test_a_segment_nothing_describes_is_told_by_what_it_leans_on_without_an_action():
    lines = ["Grocery", "Detergents_Paper"]
    summary = {
        "features": lines,
        "segments": [
            {"id": 0, "name": "Above-average grocery · Above-average detergents paper",
             "size": 91, "share": 0.21, "mean": {"Grocery": 12156.0, "Detergents_Paper": 5064.0},
             "z": {"Grocery": 0.4, "Detergents_Paper": 0.36}},
            {"id": 1, "name": "Low grocery", "size": 340, "share": 0.79,
             "mean": {"Grocery": 3000.0, "Detergents_Paper": 3000.0},
             "z": {"Grocery": -0.6, "Detergents_Paper": -0.05}},
        ],
    }  # fmt: skip
    stats = {"Grocery": {**GROCERY, "mean": 8250.0},
             "Detergents_Paper": {**GROCERY, "mean": 3238.0}}  # fmt: skip
    leaning, low = make_personas(summary, stats)
    assert leaning.distinctions == [
        "grocery 47% above average (12,156 vs 8,250)",
        "detergents paper 56% above average (5,064 vs 3,238)",
    ]
    assert (leaning.rule, low.rule) == (18, 13)


def test_flag_and_code_columns_read_as_shares_never_as_bare_values():
    flag = {"0 · A": {"1": 80, "0": 20}, "1 · B": {"1": 10, "0": 290}}
    code = {"0 · A": {"1": 0, "2": 100}, "1 · B": {"1": 200, "2": 100}}
    sizes = {"0 · A": 100, "1 · B": 300}
    facts = category_facts(pd.concat([_shares("AcceptedCmp5", flag), _shares("Channel", code)]),
                           sizes)  # fmt: skip
    assert [f.text for f in facts["0 · A"]] == [
        "80% accepted campaign 5 (22% overall)",
        "100% channel 2 (50% overall)",
    ]


def test_a_flag_that_says_who_the_customer_is_reads_in_the_plural():
    senior = column_kind("SeniorCitizen", role="flag")
    text, short = describe_value(senior, 1.0, 0.16, 2.3, size=608)
    assert (text, short) == ("100% senior citizens (16% overall)", "senior citizen 100% (avg 16%)")
    campaign = column_kind("AcceptedCmp5", role="flag")
    assert describe_value(campaign, 0.62, 0.15, 1.2, size=300)[0] == (
        "62% accepted campaign 5 (15% overall)"
    )


def _coded_customers(path: Path) -> Path:
    """A wholesale-like table: a 1/2/3 channel code and a contract text beside grocery spend."""
    rng = np.random.default_rng(3)
    group = rng.choice(3, size=300, p=[0.5, 0.3, 0.2])
    channel = np.where(rng.random(300) < 0.95, group + 1, rng.choice([1, 2, 3], size=300))
    contracts = np.array(["Month-to-month", "One year", "Two year"])[group]
    grocery = np.array([3000, 12000, 6000])[group] * np.exp(0.5 * rng.standard_normal(300))
    pd.DataFrame(
        {
            "Channel": channel,
            "Contract": np.where(rng.random(300) < 0.85, contracts, "Month-to-month"),
            "Grocery": np.rint(grocery).astype(int),
        }
    ).to_csv(path, index=False)
    return path


def test_codes_and_categories_read_as_a_manager_would_on_the_command_line(tmp_path, cli):
    proc = cli(
        "segment", _coded_customers(tmp_path / "customers.csv"), "--out", tmp_path / "out",
        "--features", "Grocery,Channel,Contract", "--k", "3", "--stability", "0", "--no-report",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    table = proc.stdout.partition("\nSegments")[2].partition("\nStability")[0]
    # One channel in each name and one in each row's facts: never "channel 2 2%; channel 1 95%".
    assert len(re.findall(r"\bchannel\b", table)) == 6, table
    # The contract's value with its column, by its share: "Mostly one-year contract".
    assert len(re.findall(r"\b(month-to-month|one-year|two-year)\b", table)) == 6, table
    assert len(re.findall(r"\bcontract\b", table)) == 6, table
    assert "Month-to-month" not in table and "More " not in table, table


def test_a_yes_no_flag_left_out_of_the_features_still_shows_in_the_personas(tmp_path):
    # Churn is a flag, not a feature: the segments are cut on tenure and charges,
    # and the personas must still say which segment has lost the most customers.
    pytest.importorskip("vl_convert", reason="the report extra is not installed")
    from tests.conftest import invoke_cli

    from custseg.report import data as rd

    rng = np.random.default_rng(3)
    tenure = np.r_[rng.normal(6, 2, 150), rng.normal(60, 5, 150)].round(1)
    charges = np.r_[rng.normal(80, 5, 150), rng.normal(40, 5, 150)].round(1)
    churn = np.where(np.r_[rng.random(150) < 0.6, rng.random(150) < 0.05], "Yes", "No")
    table = pd.DataFrame({"tenure": tenure, "MonthlyCharges": charges, "Churn": churn})
    table.to_csv(tmp_path / "t.csv", index=False)
    args = ["--out", tmp_path / "run", "--k", "2", "--stability", "0", "--no-report"]
    assert invoke_cli("segment", tmp_path / "t.csv", *args).returncode == 0
    run = rd.load_run(tmp_path / "run")
    assert next(c for c in run.summary["columns"] if c["name"] == "Churn")["role"] == "flag"
    shares = rd.category_shares(run)
    assert set(shares["column"]) == {"Churn"} and not shares["used"].any()
    records = {f["name"]: f for f in run.model.features}
    personas = make_personas(run.summary, records, shares)
    new = next(p for p in personas if "tenure" in " ".join(p.distinctions) and "New" in p.name)
    assert new.action_title == "Prevent churn", (new.name, new.action_title)
    assert any("Churn: " in d and "Yes" in d for d in new.distinctions), new.distinctions

"""The scorecard e-mail's documents: the points and rules dbt scored with.

A small demo network is built once per missing-metric policy on DuckDB;
every partner's document of every month and quarter must add up: its points
times its weights give its score exactly, by the published rule (the
weighted mean of the points that count, rounded half up to two places).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from channelops.demo import generate_demo
from channelops.pull import pull
from channelops.rules import load_scorecard
from channelops.rules.scorecard import VOLUME_METRICS
from channelops.scorecard_mail import (
    format_metric,
    scorecard_documents,
    scorecard_from_document,
)
from channelops.settings import DEFAULT_CONFIG_DIR, Settings
from channelops.transform import build_models, load_rules
from channelops.warehouse import Warehouse

CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class Built:
    policy: str
    config_dir: Path
    documents: dict[str, list[dict[str, Any]]]


@pytest.fixture(scope="module", params=["reweight", "zero"])
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Built]:
    """Every month's and quarter's documents of a 12-partner demo build."""
    policy: str = request.param
    home = tmp_path_factory.mktemp(f"scorecard_mail_{policy}")
    config_dir = home / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config_dir)
    rules_file = config_dir / "scorecard.yml"
    text = rules_file.read_text("utf-8")
    assert "missing_metrics: reweight\n" in text
    rules_file.write_text(
        text.replace("missing_metrics: reweight\n", f"missing_metrics: {policy}\n"),
        "utf-8",
    )
    generate_demo(home / "inbox", partner_count=12, last_quarter="2026Q3")
    settings = Settings(
        env="local", home=home, drop_dir=home / "inbox", config_dir=config_dir
    )
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id="mail")
        load_rules(settings, warehouse)
    build_models(settings)
    with Warehouse(settings) as warehouse:
        periods = [
            period
            for (period,) in warehouse.query(
                "select distinct period from marts.fct_partner_scorecard "
                "union select distinct period from "
                "marts.fct_partner_scorecard_monthly order by 1"
            )
        ]
        documents = {
            period: scorecard_documents(warehouse, period) for period in periods
        }
    yield Built(policy, config_dir, documents)


def mailed_score(document: dict[str, Any]) -> Decimal:
    """The weighted mean of the document's points, rounded half up to a cent."""
    counted = [
        (Decimal(m["points"]), Decimal(m["weight"]))
        for m in document["metrics"]
        if m["points"] is not None
    ]
    total = sum((p * w for p, w in counted), Decimal(0))
    weight = sum((w for _, w in counted), Decimal(0))
    return (total / weight).quantize(CENT, rounding=ROUND_HALF_UP)


def test_every_mailed_score_should_equal_its_points_times_weights_exactly(
    built: Built,
) -> None:
    scored = 0
    for period, documents in built.documents.items():
        assert documents, period
        for document in documents:
            if document["score"] is None:
                continue
            assert mailed_score(document) == document["score"], (period, document)
            scored += 1
    # Months and quarters alike: eight quarters and their 24 months.
    assert len(built.documents) == 32
    assert scored > 12 * 20


def test_mailed_documents_should_carry_the_policy_and_count_missing_metrics_by_it(
    built: Built,
) -> None:
    rules = load_scorecard(built.config_dir)
    missing = 0
    for documents in built.documents.values():
        for document in documents:
            assert document["missing_metrics"] == built.policy
            assert document["min_metrics"] == rules.min_metrics
            assert [m["metric"] for m in document["metrics"]] == [
                m.metric
                for m in sorted(rules.metrics, key=lambda m: (-m.weight, m.metric))
            ]
            for metric in document["metrics"]:
                if metric["value"] is not None:
                    assert metric["points"] is not None
                    continue
                missing += 1
                # No data: left out (reweight) or 0 points at full weight.
                expected = None if built.policy == "reweight" else Decimal(0)
                assert metric["points"] == expected, (document["period"], metric)
    assert missing > 0


def test_a_month_should_rate_volume_metrics_against_a_third_of_the_quarterly_rule(
    built: Built,
) -> None:
    rules = {m.metric: m for m in load_scorecard(built.config_dir).metrics}
    for period in ("2026Q3", "2026-09"):
        (document, *_) = built.documents[period]
        share = Decimal(3) if "-" in period else Decimal(1)
        for metric in document["metrics"]:
            rule = rules[metric["metric"]]
            scale = share if rule.metric in VOLUME_METRICS else Decimal(1)
            assert Decimal(metric["floor"]) == (rule.floor / scale).quantize(MICRO)
            assert Decimal(metric["cap"]) == (rule.cap / scale).quantize(MICRO)


def test_the_rendered_scorecard_should_show_the_documents_points_and_rules(
    built: Built,
) -> None:
    document = next(d for d in built.documents["2026-09"] if d["score"] is not None)

    card = scorecard_from_document(document, content_hash="h", language="en")

    assert card.score == document["score"]
    assert card.missing_metrics == built.policy
    assert card.min_metrics == document["min_metrics"]
    for shown, metric in zip(card.metrics, document["metrics"], strict=True):
        assert shown.points == metric["points"]
        assert shown.weight == metric["weight"]
        assert format_metric(metric["metric"], Decimal(metric["cap"])) in shown.rule
    (net_sales,) = [m for m in card.metrics if m.name == "net_sales"]
    assert "333,333.33 or more scores 100" in net_sales.rule

"""Scorecards on the AdventureWorks reseller sample, checked independently.

The models are built once on DuckDB; each test recomputes what it checks in
plain Python straight from ``FactResellerSales.csv`` and the rules file, so
neither side borrows the other's logic.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from channelops.pull import pull
from channelops.rules import load_scorecard
from channelops.settings import Settings
from channelops.transform import build_models, load_rules
from channelops.warehouse import Warehouse
from tests.conftest import ADVENTUREWORKS, TEST_DATA, adventureworks_drop

CONFIG_DIR = TEST_DATA / "adventureworks" / "config"
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
MICRO = Decimal("0.000001")


@dataclass
class ResellerQuarter:
    net_sales: Decimal = Decimal("0.00")
    orders: set[str] | None = None
    last_order: date | None = None


@pytest.fixture(scope="module")
def warehouse_rows(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The scorecard marts of one AdventureWorks build on DuckDB."""
    home = tmp_path_factory.mktemp("aw_scorecards")
    settings = Settings(
        env="local",
        home=home,
        drop_dir=adventureworks_drop(home / "inbox"),
        config_dir=CONFIG_DIR,
        currency="USD",
    )
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id="aw")
        load_rules(settings, warehouse)
    build_models(settings)
    with Warehouse(settings) as warehouse:
        yield {
            "quarterly": warehouse.query_dicts(
                "select * from marts.fct_partner_scorecard"
            ),
            "monthly": warehouse.query_dicts(
                "select partner_id, period from marts.fct_partner_scorecard_monthly"
            ),
            "history": warehouse.query_dicts(
                "select partner_id, period, period_index, score_tier, tier, "
                "tier_change from marts.fct_partner_tier_history "
                "where grain = 'quarter' order by partner_id, period_index"
            ),
        }


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(quarter: tuple[int, int]) -> str:
    return f"{quarter[0]}Q{quarter[1]}"


def next_quarter(quarter: tuple[int, int]) -> tuple[int, int]:
    year, number = quarter
    return (year + 1, 1) if number == 4 else (year, number + 1)


def quarter_end(quarter: tuple[int, int]) -> date:
    year, number = next_quarter(quarter)
    return date(year, 3 * number - 2, 1) - timedelta(days=1)


def read_sales() -> tuple[dict[str, dict[tuple[int, int], ResellerQuarter]], date]:
    """Net sales, orders and the last order day per reseller per quarter."""
    sales: dict[str, dict[tuple[int, int], ResellerQuarter]] = defaultdict(dict)
    last_day = date.min
    with (ADVENTUREWORKS / "FactResellerSales.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            day = date.fromisoformat(row["OrderDate"][:10])
            last_day = max(last_day, day)
            cell = sales[row["ResellerKey"]].setdefault(
                quarter_of(day), ResellerQuarter(orders=set())
            )
            cell.net_sales += Decimal(row["SalesAmount"]).quantize(
                CENT, rounding=ROUND_HALF_UP
            )
            assert cell.orders is not None
            cell.orders.add(row["SalesOrderNumber"])
            cell.last_order = max(cell.last_order or day, day)
    return sales, last_day


def growth(current: Decimal, before: Decimal | None) -> Decimal | None:
    if before is None or before <= 0:
        return None
    return ((current - before) / before).quantize(MICRO, rounding=ROUND_HALF_UP)


def points(value: Decimal, floor: Decimal, cap: Decimal, higher: bool) -> Decimal:
    """0-100 between floor and cap, clamped, half up to a tenth of a point."""
    share = (value - floor) / (cap - floor) if higher else (cap - value) / (cap - floor)
    clamped = max(Decimal(0), min(Decimal(1), share)) * 100
    return clamped.quantize(TENTH, rounding=ROUND_HALF_UP)


def expected_scorecards() -> dict[tuple[str, str], dict[str, Any]]:
    """Every reseller-quarter from its first order to the data's last quarter."""
    rules = load_scorecard(CONFIG_DIR)
    sales, last_day = read_sales()
    last_quarter = quarter_of(last_day)
    expected = {}
    for reseller, quarters in sales.items():
        history: list[Decimal] = []
        quarter = min(quarters)
        last_order: date | None = None
        while quarter <= last_quarter:
            cell = quarters.get(quarter, ResellerQuarter(orders=set()))
            assert cell.orders is not None
            last_order = cell.last_order or last_order
            assert last_order is not None
            cut = min(quarter_end(quarter), last_day)
            values: dict[str, Decimal | None] = {
                "net_sales": cell.net_sales,
                "order_count": Decimal(len(cell.orders)),
                "days_since_last_order": Decimal((cut - last_order).days),
                "sales_growth_qoq": growth(
                    cell.net_sales, history[-1] if history else None
                ),
                "sales_growth_yoy": growth(
                    cell.net_sales, history[-4] if len(history) >= 4 else None
                ),
            }
            weighted = [
                (points(v, m.floor, m.cap, m.higher_is_better), m.weight)
                for m in rules.metrics
                if (v := values[m.metric]) is not None
            ]
            score = (
                sum(p * w for p, w in weighted) / sum(w for _, w in weighted)
            ).quantize(CENT, rounding=ROUND_HALF_UP)
            expected[(reseller, quarter_label(quarter))] = {**values, "score": score}
            history.append(cell.net_sales)
            quarter = next_quarter(quarter)
    return expected


def test_every_reseller_quarter_should_have_a_scorecard(
    warehouse_rows: dict[str, list[dict[str, Any]]],
) -> None:
    expected = expected_scorecards()
    quarterly = warehouse_rows["quarterly"]

    assert {(r["partner_id"], r["period"]) for r in quarterly} == set(expected)
    assert len({r["partner_id"] for r in quarterly}) == 632
    assert len({r["period"] for r in quarterly}) == 12
    # Every reseller-quarter has enough metrics for a score here.
    assert all(r["score"] is not None for r in quarterly)
    months = {(r["partner_id"], r["period"][:4]) for r in warehouse_rows["monthly"]}
    assert {(p, period[:4]) for p, period in expected} <= months


def test_scorecard_values_should_match_an_independent_computation(
    warehouse_rows: dict[str, list[dict[str, Any]]],
) -> None:
    expected = expected_scorecards()
    by_key = {(r["partner_id"], r["period"]): r for r in warehouse_rows["quarterly"]}
    # A handful of resellers: the largest, one that starts late, and the
    # first keys, each over all of its quarters.
    largest = max(expected, key=lambda k: expected[k]["net_sales"])[0]
    late = max(expected, key=lambda k: min(p for r, p in expected if r == k[0]))[0]
    chosen = {largest, late, *sorted({r for r, _ in expected})[:4]}
    checked = 0
    for (reseller, period), values in sorted(expected.items()):
        if reseller not in chosen:
            continue
        row = by_key[(reseller, period)]
        assert row["net_sales"] == values["net_sales"], (reseller, period)
        assert row["order_count"] == values["order_count"], (reseller, period)
        assert row["days_since_last_order"] == values["days_since_last_order"]
        for metric in ("sales_growth_qoq", "sales_growth_yoy"):
            if values[metric] is None:
                assert row[metric] is None, (reseller, period, metric)
            else:
                assert abs(row[metric] - values[metric]) <= MICRO
        assert row["score"] == values["score"], (reseller, period)
        checked += 1
    assert checked >= 30


def test_tier_moves_over_the_quarters_should_respect_hysteresis(
    warehouse_rows: dict[str, list[dict[str, Any]]],
) -> None:
    rules = load_scorecard(CONFIG_DIR)
    level = {t.tier: i for i, t in enumerate(rules.ordered_tiers())}
    promote, demote = rules.hysteresis.promote_after, rules.hysteresis.demote_after
    by_partner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in warehouse_rows["history"]:
        by_partner[row["partner_id"]].append(row)

    moves = {"promoted": 0, "demoted": 0}
    for rows in by_partner.values():
        held: int | None = None
        rising: list[int] = []
        falling: list[int] = []
        for row in rows:
            qualified = level[row["score_tier"]]
            if held is None:
                held = qualified
            elif qualified > held:
                falling, rising = [], [*rising, qualified]
                if len(rising) == promote:
                    held, rising = min(rising), []
            elif qualified < held:
                rising, falling = [], [*falling, qualified]
                if len(falling) == demote:
                    held, falling = max(falling), []
            else:
                rising, falling = [], []
            assert level[row["tier"]] == held, row
            if row["tier_change"] in moves:
                moves[row["tier_change"]] += 1

    assert moves["promoted"] > 0 and moves["demoted"] > 0


def test_ranks_and_percentiles_should_order_partners_within_tier_and_region(
    warehouse_rows: dict[str, list[dict[str, Any]]],
) -> None:
    quarterly = warehouse_rows["quarterly"]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in quarterly:
        groups[(row["period"], row["tier"])].append(row)
    for rows in groups.values():
        rows.sort(key=lambda r: r["tier_rank"])
        assert rows[0]["tier_rank"] == 1
        assert rows[0]["tier_percentile"] == 100
        scores = [r["score"] for r in rows]
        assert scores == sorted(scores, reverse=True)
        percentiles = [r["tier_percentile"] for r in rows]
        assert percentiles == sorted(percentiles, reverse=True)
        assert all(r["tier_scored_count"] == len(rows) for r in rows)
    assert all(0 <= r["region_percentile"] <= 100 for r in quarterly)


def rank_and_percentile(
    rows: list[dict[str, Any]], score: Decimal
) -> tuple[int, Decimal]:
    """rank() among ``rows`` and the share (0-100) of the others below."""
    rank = 1 + sum(r["score"] > score for r in rows)
    if len(rows) == 1:
        return rank, Decimal(100)
    share = Decimal((len(rows) - rank) * 100) / (len(rows) - 1)
    return rank, share.quantize(TENTH, rounding=ROUND_HALF_UP)


def test_region_and_overall_ranks_should_be_rank_among_the_scored_peers(
    warehouse_rows: dict[str, list[dict[str, Any]]],
) -> None:
    quarterly = warehouse_rows["quarterly"]
    periods: dict[str, list[dict[str, Any]]] = defaultdict(list)
    regions: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in quarterly:
        periods[row["period"]].append(row)
        regions[(row["period"], row["region"])].append(row)
    # Several regions, some with ties in score.
    assert len({region for _, region in regions}) > 3
    tied = 0
    for (period, region), rows in regions.items():
        for row in rows:
            rank, percentile = rank_and_percentile(rows, row["score"])
            assert row["region_rank"] == rank, (period, region, row["partner_id"])
            assert row["region_percentile"] == percentile, (period, row)
            assert row["region_scored_count"] == len(rows)
            tied += sum(r["score"] == row["score"] for r in rows) > 1
    assert tied > 0
    for period, rows in periods.items():
        for row in rows:
            rank, _ = rank_and_percentile(rows, row["score"])
            assert row["score_rank"] == rank, (period, row["partner_id"])
            assert row["scored_partner_count"] == len(rows)


def test_score_tier_should_be_the_highest_tier_the_score_reaches(
    warehouse_rows: dict[str, list[dict[str, Any]]],
) -> None:
    tiers = load_scorecard(CONFIG_DIR).ordered_tiers()
    reached: set[str] = set()
    for row in warehouse_rows["quarterly"]:
        (highest, *_) = [t for t in reversed(tiers) if row["score"] >= t.min_score]
        assert row["score_tier"] == highest.tier, row
        reached.add(highest.tier)
    assert reached == {t.tier for t in tiers}

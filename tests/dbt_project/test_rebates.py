"""Rebate programs settled by the real dbt models on DuckDB and PostgreSQL.

One tiny network (three partners, 2026) is built once per engine (the
issue's golden numbers as dbt unit tests are in test_unit_tests.py, which
also runs them on both engines). The assertions check an
annual retroactive program settled quarter by quarter, a clawback carried
forward, a minimum payout, scope and approved adjustments, and a program
that starts mid-quarter and gains a second version after two quarters were
published: the fixture publishes them, adds the version and builds again.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from channelops.accruals import AccrualsMissing, accrual_report
from channelops.cli import app
from channelops.periods import Month, Quarter
from channelops.publish import build_statement_documents, publish_statements
from channelops.settings import DEFAULT_CONFIG_DIR, Settings
from channelops.transform import RUN_EXCLUDES, build_models, load_rules, run_dbt
from channelops.warehouse import Warehouse
from tests.dbt_project import rebate_reference as reference
from tests.dbt_project.rebate_reference import Tier

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}

GOLDEN = """\
program_id: golden
name: Golden retroactive bands
version: 1
effective_from: 2026-01-01
calculation: retroactive
scope: {product_categories: [A]}
tiers:
  - {name: t1, from: 0, to: 100.01, rate: 0.10}
  - {name: t2, from: 100.01, to: 300.01, rate: 0.20}
  - {name: t3, from: 300.01, rate: 0.30}
"""
ANNUAL = """\
program_id: annual
name: Annual volume
version: 3
effective_from: 2026-01-01
calculation: retroactive
accumulation: year
minimum_payout: 1.00
tiers:
  - {name: base, from: 0, to: 5000, rate: 0.01}
  - {name: gold, from: 5000, rate: 0.02}
"""
# Starts mid-quarter: P3's sale of 2026-01-20 is before it and never counts.
NORTH_V1 = """\
program_id: north
name: North region bonus
version: 1
effective_from: 2026-02-15
calculation: percentage
rate: 0.10
scope: {regions: [North]}
"""
# Added after 2026Q1 and Q2 were published, when v1 gets its last day.
NORTH_V2 = (
    NORTH_V1.replace("version: 1", "version: 2")
    .replace("effective_from: 2026-02-15", "effective_from: 2026-07-01")
    .replace("rate: 0.10", "rate: 0.20")
)
# Quarterly performance bonus on P2's targets (region West).
PERFORMANCE = """\
program_id: performance
name: Quarterly performance bonus
version: 1
effective_from: 2026-01-01
basis: target_attainment
calculation: retroactive
scope: {regions: [West]}
tiers:
  - {name: below target, from: 0, to: 1.00, rate: 0}
  - {name: target reached, from: 1.00, to: 1.20, rate: 0.01}
  - {name: 120 percent, from: 1.20, rate: 0.02}
"""
# Volume, new customers and co-marketing on one statement (region South),
# sharing a cap that binds: 400.00 + 400.00 + 1,000.00 asks for 1,800.00.
TRIPLE = """\
program_id: triple
name: Triple incentive
version: 1
effective_from: 2026-01-01
cap: 1000
components:
  - component_id: volume
    name: Volume
    calculation: retroactive
    scope: {regions: [South]}
    tiers:
      - {name: base, from: 0, to: 10000, rate: 0.05}
      - {name: high, from: 10000, rate: 0.08}
  - component_id: new_customers
    name: New customers
    basis: new_customers
    calculation: per_unit
    scope: {regions: [South]}
    tiers:
      - {name: each, from: 0, per_unit: 200}
  - component_id: co_marketing
    name: Co-marketing
    basis: co_marketing_spend
    calculation: percentage
    rate: 0.25
    scope: {regions: [South]}
"""
# For partners holding any scorecard tier at the end of the quarter before:
# P1's first quarter (2026Q1) has no such tier, so only its later lines count.
LOYALTY = """\
program_id: loyalty
name: Loyalty bonus
version: 1
effective_from: 2026-01-01
calculation: percentage
rate: 0.01
scope:
  regions: [East]
  partner_tiers: [core, growth, ordinary, insufficient_data]
"""
# (partner, quarter, target)
TARGETS = [("P2", "2026Q1", "80.00"), ("P2", "2026Q2", "41.67")]
# Region Central: growth on the same quarter last year (5 % of the increase),
# eligibility on real payments (collected at least 90 % of invoiced), and a
# scope by product id and partner type.
GROWTH = """\
program_id: growth
name: Growth rebate
version: 1
effective_from: 2026-01-01
calculation: growth
rate: 0.05
scope: {regions: [Central], product_categories: [D]}
"""
COLLECTED = """\
program_id: collected
name: Collection-qualified rebate
version: 1
effective_from: 2026-01-01
calculation: percentage
rate: 0.01
scope: {regions: [Central]}
eligibility: {min_collection_ratio: 0.90}
"""
DISTRIBUTOR_SKU = """\
program_id: distributor_sku
name: Distributor SKU rebate
version: 1
effective_from: 2026-01-01
calculation: percentage
rate: 0.001
scope: {product_ids: [SKU-D], partner_types: [distributor]}
"""
# 1,000.00 per co-marketing activity (region Coast). The fixture publishes
# P7's 2026Q2 under v1, then edits this file in place to v2 (1,500.00).
DISPLAY = """\
program_id: display
name: Display bonus
version: 1
effective_from: 2026-01-01
basis: co_marketing_activities
calculation: per_unit
scope: {regions: [Coast]}
tiers:
  - {name: each, from: 0, per_unit: 1000}
"""
ADJUSTMENTS = """\
adjustments:
  - {adjustment_id: ADJ-1, partner_id: P1, period: 2026Q2, amount: 200.00,
     reason: display bonus, approval: approved, approved_by: finance}
  - {adjustment_id: ADJ-2, partner_id: P1, period: 2026Q2, amount: -50.00,
     reason: damaged goods, approval: in_review}
  - {adjustment_id: ADJ-3, partner_id: P7, period: 2026Q2, amount: 200.00,
     reason: shelf fee, approval: approved, approved_by: finance}
  - {adjustment_id: ADJ-4, partner_id: P7, period: 2026Q2, amount: -50.00,
     reason: late report, approval: in_review}
"""
PROGRAMS = {
    "golden.yml": GOLDEN,
    "annual.yml": ANNUAL,
    "north.yml": NORTH_V1,
    "performance.yml": PERFORMANCE,
    "triple.yml": TRIPLE,
    "loyalty.yml": LOYALTY,
    "growth.yml": GROWTH,
    "collected.yml": COLLECTED,
    "distributor_sku.yml": DISTRIBUTOR_SKU,
    "display.yml": DISPLAY,
}
PARTNERS = [
    ("P1", "East", "dealer"),
    ("P2", "West", "dealer"),
    ("P3", "North", "dealer"),
    ("P4", "South", "dealer"),
    ("P5", "Central", "distributor"),
    ("P6", "Central", "dealer"),
    ("P7", "Coast", "dealer"),
]
# (line id, partner, date, category, type, quantity, amount)
ORDER_LINES = [
    ("L1", "P1", "2026-01-15", "A", "sale", 10, "3800.00"),
    ("L2", "P1", "2026-02-01", "B", "sale", 5, "1000.00"),
    ("L3", "P1", "2026-04-10", "A", "sale", 12, "5000.00"),
    ("L4", "P1", "2026-07-05", "A", "return", 4, "2000.00"),
    ("L5", "P1", "2026-07-06", "A", "rebate_credit", 1, "999.00"),
    ("L6", "P2", "2026-01-20", "A", "sale", 1, "90.00"),
    ("L7", "P2", "2026-04-20", "A", "sale", 1, "50.00"),
    ("L8", "P3", "2026-01-20", "A", "sale", 1, "1000.00"),
    ("L9", "P3", "2026-03-01", "A", "sale", 1, "500.00"),
    ("L10", "P3", "2026-05-01", "A", "sale", 1, "700.00"),
    ("L11", "P3", "2026-08-01", "A", "sale", 1, "300.00"),
    ("L12", "P4", "2026-04-05", "C", "sale", 10, "5000.00"),
    ("L13", "P4", "2026-05-06", "C", "sale", 6, "3000.00"),
    ("L14", "P5", "2025-04-10", "D", "sale", 100, "800000.00"),
    ("L15", "P5", "2026-04-15", "D", "sale", 100, "1000000.00"),
    ("L16", "P5", "2026-04-20", "E", "sale", 10, "5000.00"),
    ("L17", "P6", "2026-04-20", "D", "sale", 2, "2000.00"),
]
CUSTOMERS = {"L12": "C1", "L13": "C2"}
# (activity, partner, type, start, end, cost)
ACTIVITIES = [
    ("A1", "P4", "co_marketing", "2026-06-01", "2026-06-10", "4000.00"),
    ("A2", "P7", "co_marketing", "2026-05-20", "2026-05-20", None),
]
# (payment, partner, day, amount): P5 collected 950,000.00 of 1,005,000.00
# invoiced in 2026Q2 (94.5 %), P6 1,000.00 of 2,000.00 (50 %).
PAYMENTS = [
    ("PAY1", "P5", "2026-05-30", "950000.00"),
    ("PAY2", "P6", "2026-06-15", "1000.00"),
]


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def settled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings of a warehouse where the tiny network is built."""
    home = tmp_path_factory.mktemp(f"rebates_{request.param}")
    config = home / "config"
    (config / "programs").mkdir(parents=True)
    for name, text in PROGRAMS.items():
        (config / "programs" / name).write_text(text, "utf-8")
    (config / "adjustments.yml").write_text(ADJUSTMENTS, "utf-8")
    shutil.copy(DEFAULT_CONFIG_DIR / "scorecard.yml", config / "scorecard.yml")
    database = None
    if request.param == "postgres":
        database = f"issue3_rebates_{uuid.uuid4().hex[:10]}"
        _admin(f"create database {database}")
        settings = Settings(
            env="prod", home=home, config_dir=config, pg_database=database
        )
    else:
        settings = Settings(env="local", home=home, config_dir=config)
    try:
        with Warehouse(settings) as warehouse:
            warehouse.ensure_schema()
            _insert_network(warehouse)
            load_rules(settings, warehouse)
        build_models(settings)
        _publish_then_change_the_rules(settings)
        yield settings
    finally:
        if database is not None:
            _admin(f"drop database if exists {database} with (force)")


def _publish_then_change_the_rules(settings: Settings) -> None:
    """Publish, change the rules, build again and publish P7 again.

    P3's 2026Q1 and Q2 are published under north v1, then north gets a v2
    from 2026Q3. P7's 2026Q2 is published, then finance edits display in
    place to v2 (1,500.00 an activity) and rejects ADJ-3: P7's 2026Q2 is
    published again, as its v2.
    """
    with Warehouse(settings) as warehouse:
        for quarter, partner in (("2026Q1", "P3"), ("2026Q2", "P3"), ("2026Q2", "P7")):
            publish_statements(
                settings,
                warehouse,
                Quarter.parse(quarter),
                run_id=f"before-rules-change-{quarter}",
                partners=frozenset({partner}),
            )
    config = settings.config_dir
    (config / "programs" / "north.yml").write_text(
        NORTH_V1.replace("rate:", "effective_to: 2026-06-30\nrate:"), "utf-8"
    )
    (config / "programs" / "north_v2.yml").write_text(NORTH_V2, "utf-8")
    (config / "programs" / "display.yml").write_text(
        DISPLAY.replace("version: 1", "version: 2").replace("1000}", "1500}"),
        "utf-8",
    )
    (config / "adjustments.yml").write_text(
        ADJUSTMENTS.replace(
            "shelf fee, approval: approved, approved_by: finance",
            "shelf fee, approval: rejected",
        ),
        "utf-8",
    )
    with Warehouse(settings) as warehouse:
        load_rules(settings, warehouse)
    # The rebate models and their data tests.
    completed = run_dbt(
        settings,
        "build",
        *RUN_EXCLUDES,
        "--select",
        "+fct_rebate_statements",
        "+fct_rebate_line_sources",
        "+fct_rebate_accruals",
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    with Warehouse(settings) as warehouse:
        publish_statements(
            settings,
            warehouse,
            Quarter.parse("2026Q2"),
            run_id="after-rules-change-2026Q2",
            partners=frozenset({"P7"}),
        )


def _admin(sql: str) -> None:
    connection = psycopg2.connect(**PG)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(sql)
    connection.close()


def _insert_network(warehouse: Warehouse) -> None:
    for partner_id, region, partner_type in PARTNERS:
        warehouse.execute(
            "insert into raw.partners (partner_id, partner_name, region, "
            "partner_type) values (?, ?, ?, ?)",
            (partner_id, f"Partner {partner_id}", region, partner_type),
        )
    for activity, partner_id, kind, start, end, cost in ACTIVITIES:
        warehouse.execute(
            "insert into raw.activities (activity_id, partner_id, activity_type, "
            "start_date, end_date, cost, currency) values "
            "(?, ?, ?, cast(? as date), cast(? as date), ?, 'CNY')",
            (activity, partner_id, kind, start, end, cost and Decimal(cost)),
        )
    for payment, partner_id, day, amount in PAYMENTS:
        warehouse.execute(
            "insert into raw.payments (payment_id, partner_id, paid_date, "
            "amount, currency) values (?, ?, cast(? as date), ?, 'CNY')",
            (payment, partner_id, day, Decimal(amount)),
        )
    for partner_id, quarter, target in TARGETS:
        warehouse.execute(
            "insert into raw.targets (partner_id, period, target_amount, "
            "currency) values (?, ?, ?, 'CNY')",
            (partner_id, quarter, Decimal(target)),
        )
    for line_id, partner, day, category, kind, quantity, amount in ORDER_LINES:
        warehouse.execute(
            "insert into raw.order_lines (order_line_id, order_id, partner_id, "
            "customer_id, order_date, product_id, product_category, quantity, "
            "unit_price, net_amount, currency, line_type) values "
            "(?, ?, ?, ?, cast(? as date), ?, ?, ?, ?, ?, 'CNY', ?)",
            (
                line_id,
                f"O{line_id}",
                partner,
                CUSTOMERS.get(line_id),
                day,
                f"SKU-{category}",
                category,
                Decimal(quantity),
                Decimal(amount) / quantity,
                Decimal(amount),
                kind,
            ),
        )


def lines(settings: Settings) -> dict[tuple[str, str, str], tuple[Decimal, ...]]:
    """(partner, period, program) -> entitlement, carried in, amount, carried out."""
    with Warehouse(settings) as warehouse:
        rows = warehouse.query(
            "select partner_id, period, program_id, entitlement_amount, "
            "carried_in_amount, amount, carried_out_amount "
            "from marts.fct_rebate_statement_lines"
        )
    return {(p, q, g): tuple(money) for p, q, g, *money in rows}


GOLDEN_UNIT_TESTS = {
    "retroactive_tiers_apply_the_reached_rate_to_the_whole_basis",
    "upper_inclusive_bounds_put_a_boundary_amount_in_the_lower_tier",
    "incremental_tiers_apply_each_rate_to_its_own_slice",
    "per_unit_amounts_apply_to_the_units_of_each_band",
    "the_same_tiers_pay_differently_under_the_two_conventions",
    "a_single_target_pays_its_fixed_amount_once_reached",
    "growth_pays_on_the_increase_over_the_same_period_last_year",
    "eligibility_and_cap_limit_the_entitlement",
    "a_balance_below_the_minimum_or_negative_is_carried_not_paid",
    "only_approved_adjustments_reach_the_statement",
    "new_customers_are_new_to_the_partner_in_the_period",
    "new_customer_bonus_pays_per_customer_or_on_sales",
    "co_marketing_counts_completed_activities_and_spend",
    "co_marketing_pays_a_capped_share_or_per_activity",
    "a_parent_is_credited_with_its_sub_distributors_sales",
    "accruals_follow_the_run_rate_and_true_up_to_the_settlement",
    "accruals_divide_exactly_and_round_half_away_from_zero",
    "monthly_basis_counts_the_period_months_inside_the_version",
    "a_performance_bonus_pays_on_target_attainment",
    "components_fill_the_cap_they_share_in_the_order_listed",
    "a_tier_scope_reads_the_tier_held_at_the_previous_quarter_end",
}


def test_golden_bands_pay_the_reached_rate_on_the_scoped_sales(
    settled: Settings,
) -> None:
    found = lines(settled)

    assert found["P1", "2026Q1", "golden"][2] == Decimal("1140.00")
    assert found["P1", "2026Q2", "golden"][2] == Decimal("1500.00")
    assert found["P2", "2026Q1", "golden"][2] == Decimal("9.00")


def test_annual_tiers_settled_quarterly_pay_the_cumulative_minus_settled(
    settled: Settings,
) -> None:
    found = lines(settled)

    # Q1: 4,800 at 1 % = 48.00; Q2: 9,800 reaches 2 % = 196.00, 148.00 more.
    assert found["P1", "2026Q1", "annual"] == tuple(
        Decimal(v) for v in ("48.00", "0.00", "48.00", "0.00")
    )
    assert found["P1", "2026Q2", "annual"] == tuple(
        Decimal(v) for v in ("196.00", "0.00", "148.00", "0.00")
    )


def test_a_later_return_claws_back_and_the_negative_balance_is_carried(
    settled: Settings,
) -> None:
    found = lines(settled)

    # Q3: a 2,000 return drops the year to 7,800 = 156.00: 40.00 to claw back.
    assert found["P1", "2026Q3", "annual"] == tuple(
        Decimal(v) for v in ("156.00", "0.00", "0.00", "-40.00")
    )
    assert found["P1", "2026Q3", "golden"][2:] == (Decimal("0.00"), Decimal("-200.00"))


def test_a_balance_below_the_minimum_payout_waits_for_the_next_quarter(
    settled: Settings,
) -> None:
    found = lines(settled)

    assert found["P2", "2026Q1", "annual"][2:] == (Decimal("0.00"), Decimal("0.90"))
    assert found["P2", "2026Q2", "annual"][1:] == (
        Decimal("0.90"),
        Decimal("1.40"),
        Decimal("0.00"),
    )


def test_statements_count_approved_adjustments_only_and_add_up(
    settled: Settings,
) -> None:
    with Warehouse(settled) as warehouse:
        rows = warehouse.query(
            "select statement_key, total_amount, carried_forward_amount, "
            "line_count from marts.fct_rebate_statements order by statement_key"
        )
        adjustment_lines = warehouse.query(
            "select statement_key, amount from marts.fct_rebate_statement_lines "
            "where line_kind = 'adjustment'"
        )

    assert adjustment_lines == [("P1-2026Q2", Decimal("200.00"))]
    assert rows == [
        ("P1-2026Q1", Decimal("1188.00"), Decimal("0.00"), 2),
        ("P1-2026Q2", Decimal("1898.00"), Decimal("0.00"), 4),
        ("P1-2026Q3", Decimal("0.00"), Decimal("-260.00"), 3),
        ("P2-2026Q1", Decimal("9.90"), Decimal("0.90"), 3),
        ("P2-2026Q2", Decimal("6.90"), Decimal("0.00"), 3),
        ("P3-2026Q1", Decimal("515.00"), Decimal("0.00"), 3),
        ("P3-2026Q2", Decimal("287.00"), Decimal("0.00"), 3),
        ("P3-2026Q3", Decimal("123.00"), Decimal("0.00"), 3),
        ("P4-2026Q2", Decimal("1160.00"), Decimal("0.00"), 4),
        ("P5-2025Q2", Decimal("0.00"), Decimal("0.00"), 0),
        ("P5-2026Q2", Decimal("41150.00"), Decimal("0.00"), 4),
        ("P6-2026Q2", Decimal("120.00"), Decimal("0.00"), 3),
        ("P7-2026Q2", Decimal("1500.00"), Decimal("0.00"), 1),
    ]


def test_each_line_names_its_source_lines_for_drill_down(settled: Settings) -> None:
    with Warehouse(settled) as warehouse:
        rows = warehouse.query(
            "select statement_line_key, order_line_id "
            "from marts.fct_rebate_line_sources order by 1, 2"
        )

    assert ("P1-2026Q1-annual", "L2") in rows
    assert ("P1-2026Q1-golden", "L2") not in rows
    assert ("P1-2026Q3-golden", "L4") in rows
    assert all(order_line != "L5" for _, order_line in rows)


def test_publishing_records_the_ledger_and_a_rerun_publishes_nothing(
    settled: Settings,
) -> None:
    with Warehouse(settled) as warehouse:
        first = publish_statements(
            settled, warehouse, Quarter.parse("2026Q2"), run_id="first"
        )
        again = publish_statements(
            settled, warehouse, Quarter.parse("2026Q2"), run_id="again"
        )
        movements = warehouse.query(
            "select statement_key, sum(amount) from ops.settlement_ledger "
            "group by statement_key order by statement_key"
        )
        recorded = warehouse.query(
            "select statement_key, program_versions, reason "
            "from ops.settlement_versions order by statement_key, version"
        )

    # P3's and P7's statements were published by the fixture.
    assert [(s.statement_key, s.version) for s in first.new_versions] == [
        ("P1-2026Q2", 1),
        ("P2-2026Q2", 1),
        ("P4-2026Q2", 1),
        ("P5-2026Q2", 1),
        ("P6-2026Q2", 1),
    ]
    assert again.new_versions == ()
    assert movements == [
        ("P1-2026Q2", Decimal("1898.00")),
        ("P2-2026Q2", Decimal("6.90")),
        ("P3-2026Q1", Decimal("515.00")),
        ("P3-2026Q2", Decimal("287.00")),
        ("P4-2026Q2", Decimal("1160.00")),
        ("P5-2026Q2", Decimal("41150.00")),
        ("P6-2026Q2", Decimal("120.00")),
        ("P7-2026Q2", Decimal("1500.00")),
    ]
    first_settlement = "first settlement of the period"
    assert recorded == [
        ("P1-2026Q2", "annual v3, golden v1, loyalty v1", first_settlement),
        ("P2-2026Q2", "annual v3, golden v1, performance v1", first_settlement),
        ("P3-2026Q1", "annual v3, golden v1, north v1", first_settlement),
        ("P3-2026Q2", "annual v3, golden v1, north v1", first_settlement),
        ("P4-2026Q2", "annual v3, triple v1", first_settlement),
        (
            "P5-2026Q2",
            "annual v3, collected v1, distributor_sku v1, growth v1",
            first_settlement,
        ),
        ("P6-2026Q2", "annual v3, collected v1, growth v1", first_settlement),
        ("P7-2026Q2", "display v1", first_settlement),
        (
            "P7-2026Q2",
            "display v2",
            "corrects v1: programs changed from display v1 to display v2",
        ),
    ]


def test_a_program_starting_mid_quarter_counts_only_sales_from_its_start(
    settled: Settings,
) -> None:
    with Warehouse(settled) as warehouse:
        [line] = warehouse.query_dicts(
            "select basis_amount, program_version, amount, source_line_count "
            "from marts.fct_rebate_statement_lines "
            "where statement_line_key = 'P3-2026Q1-north'"
        )
        sources = warehouse.query(
            "select order_line_id from marts.fct_rebate_line_sources "
            "where statement_line_key = 'P3-2026Q1-north'"
        )

    # 2026-01-20's 1,000.00 is before 2026-02-15: only 500.00 at 10 %.
    assert line == {
        "basis_amount": Decimal("500.00"),
        "program_version": 1,
        "amount": Decimal("50.00"),
        "source_line_count": 1,
    }
    assert sources == [("L9",)]


def test_a_new_version_leaves_the_quarters_published_under_v1_as_they_were(
    settled: Settings,
) -> None:
    before = {
        path: path.read_bytes() for path in (settled.published_dir).rglob("P3/*.json")
    }
    with Warehouse(settled) as warehouse:
        reruns = [
            publish_statements(
                settled,
                warehouse,
                Quarter.parse(quarter),
                run_id=f"after-north-v2-{quarter}",
                partners=frozenset({"P3"}),
            )
            for quarter in ("2026Q1", "2026Q2")
        ]
        versions = warehouse.query(
            "select period, program_version, amount "
            "from marts.fct_rebate_statement_lines "
            "where partner_id = 'P3' and line_item_id = 'north' order by period"
        )

    assert [r.new_versions for r in reruns] == [(), ()]
    assert sorted(p.name for p in before) == ["v1.json", "v1.json"]
    assert {
        path: path.read_bytes() for path in (settled.published_dir).rglob("P3/*.json")
    } == before
    # Q1 and Q2 stay under v1 (10 %); Q3's 300.00 settles under v2 (20 %).
    assert versions == [
        ("2026Q1", 1, Decimal("50.00")),
        ("2026Q2", 1, Decimal("70.00")),
        ("2026Q3", 2, Decimal("60.00")),
    ]


def test_a_performance_bonus_pays_on_the_quarters_target_attainment(
    settled: Settings,
) -> None:
    with Warehouse(settled) as warehouse:
        found = warehouse.query(
            "select period, basis_amount, target_amount, measured_basis, "
            "tier_name, amount from marts.fct_rebate_statement_lines "
            "where line_item_id = 'performance' order by period"
        )
        document = build_statement_documents(warehouse, Quarter.parse("2026Q1"))

    # 90.00 on a target of 80.00 attains 1.125: 1 % of 90.00. 50.00 on
    # 41.67 attains 1.19990..., cut to 1.199, not rounded up to 120 %.
    assert found == [
        (
            "2026Q1",
            Decimal("90.00"),
            Decimal("80.00"),
            Decimal("1.125"),
            "target reached",
            Decimal("0.90"),
        ),
        (
            "2026Q2",
            Decimal("50.00"),
            Decimal("41.67"),
            Decimal("1.199"),
            "target reached",
            Decimal("0.50"),
        ),
    ]
    lines = {
        line["statement_line_key"]: line
        for statement in document
        for line in statement["lines"]
    }
    assert lines["P2-2026Q1-performance"]["target_amount"] == Decimal("80.00")
    assert "target_amount" not in lines["P2-2026Q1-golden"]


def test_a_triple_incentive_explains_each_component_within_its_shared_cap(
    settled: Settings,
) -> None:
    with Warehouse(settled) as warehouse:
        [statement] = [
            document
            for document in build_statement_documents(
                warehouse, Quarter.parse("2026Q2")
            )
            if document["statement_key"] == "P4-2026Q2"
        ]

    # 5 % of 8,000.00 = 400.00; 2 new customers at 200.00 = 400.00; 25 % of
    # the 4,000.00 co-marketing spend = 1,000.00, cut to the 200.00 the
    # shared cap of 1,000.00 leaves.
    assert [
        (
            line["line_no"],
            line["statement_line_key"],
            line["program_name"],
            line.get("component_id"),
            line.get("program_cap_amount"),
            line["is_capped"],
            line["amount"],
            line["source_line_ids"],
        )
        for line in statement["lines"]
    ] == [
        (
            1,
            "P4-2026Q2-annual",
            "Annual volume",
            None,
            None,
            False,
            Decimal("160.00"),
            ["L12", "L13"],
        ),
        (
            2,
            "P4-2026Q2-triple:volume",
            "Triple incentive · Volume",
            "volume",
            Decimal("1000.00"),
            False,
            Decimal("400.00"),
            ["L12", "L13"],
        ),
        (
            3,
            "P4-2026Q2-triple:new_customers",
            "Triple incentive · New customers",
            "new_customers",
            Decimal("1000.00"),
            False,
            Decimal("400.00"),
            ["L12", "L13"],
        ),
        (
            4,
            "P4-2026Q2-triple:co_marketing",
            "Triple incentive · Co-marketing",
            "co_marketing",
            Decimal("1000.00"),
            True,
            Decimal("200.00"),
            ["A1"],
        ),
    ]
    assert statement["total_amount"] == Decimal("1160.00")


def test_a_tier_scope_counts_lines_after_a_quarter_with_a_scorecard_tier(
    settled: Settings,
) -> None:
    found = lines(settled)
    with Warehouse(settled) as warehouse:
        sources = warehouse.query(
            "select statement_line_key, order_line_id "
            "from marts.fct_rebate_line_sources "
            "where statement_line_key like '%-loyalty' order by 1, 2"
        )

    # 2026Q1 (L1, L2) has no tier from the quarter before; Q2's 5,000.00
    # pays 1 %, Q3's 2,000.00 return claws back 20.00, carried.
    assert ("P1", "2026Q1", "loyalty") not in found
    assert found["P1", "2026Q2", "loyalty"][2] == Decimal("50.00")
    assert found["P1", "2026Q3", "loyalty"][2:] == (
        Decimal("0.00"),
        Decimal("-20.00"),
    )
    assert sources == [("P1-2026Q2-loyalty", "L3"), ("P1-2026Q3-loyalty", "L4")]


def published(settings: Settings, period: str, partner: str, version: int) -> Any:
    path = settings.published_dir / period / partner / f"v{version}.json"
    return json.loads(path.read_text("utf-8"))["document"]


def test_a_statement_pays_the_program_and_the_approved_adjustment_only(
    settled: Settings,
) -> None:
    statement = published(settled, "2026Q2", "P7", 1)

    # Calculated 1,000.00, adjustments +200.00 approved and -50.00 in review.
    assert [
        (line["line_kind"], line["statement_line_key"], line["amount"])
        for line in statement["lines"]
    ] == [
        ("program", "P7-2026Q2-display", "1000.00"),
        ("adjustment", "P7-2026Q2-adjustment-ADJ-3", "200.00"),
    ]
    assert statement["total_amount"] == "1200.00"


def test_a_rules_change_publishes_a_v2_of_deltas_naming_the_program_versions(
    settled: Settings,
) -> None:
    v2 = published(settled, "2026Q2", "P7", 2)
    with Warehouse(settled) as warehouse:
        versions = warehouse.query(
            "select version, inputs_hash, data_hash, rules_hash "
            "from ops.settlement_versions where statement_key = 'P7-2026Q2' "
            "order by version"
        )
        movements = warehouse.query(
            "select version, statement_line_key, amount from ops.settlement_ledger "
            "where statement_key = 'P7-2026Q2' order by version, statement_line_key"
        )

    # display edited in place from 1,000.00 to 1,500.00 an activity, and
    # ADJ-3 rejected: +500.00 on the program line, its 200.00 withdrawn.
    assert v2["reason"] == "corrects v1: programs changed from display v1 to display v2"
    assert [
        (
            line["line_kind"],
            line["statement_line_key"],
            line["amount"],
            line["settled_amount"],
            line["previously_published_amount"],
        )
        for line in v2["lines"]
    ] == [
        ("program_correction", "P7-2026Q2-display", "500.00", "1500.00", "1000.00"),
        ("withdrawn", "P7-2026Q2-adjustment-ADJ-3", "-200.00", "0.00", "200.00"),
    ]
    assert (v2["total_amount"], v2["settlement_total_amount"]) == ("300.00", "1500.00")
    assert movements == [
        (1, "P7-2026Q2-adjustment-ADJ-3", Decimal("200.00")),
        (1, "P7-2026Q2-display", Decimal("1000.00")),
        (2, "P7-2026Q2-adjustment-ADJ-3", Decimal("-200.00")),
        (2, "P7-2026Q2-display", Decimal("500.00")),
    ]
    # The rule files are in the inputs hash; the data files did not change.
    [(_, inputs_1, data_1, rules_1), (_, inputs_2, data_2, rules_2)] = versions
    assert inputs_1 != inputs_2
    assert data_1 == data_2
    assert rules_1 != rules_2


def program_line(settings: Settings, key: str) -> dict[str, Any]:
    with Warehouse(settings) as warehouse:
        [line] = warehouse.query_dicts(
            "select * from marts.fct_rebate_statement_lines "
            "where statement_line_key = ?",
            (key,),
        )
    return line


def test_growth_pays_on_the_increase_over_the_same_quarter_last_year(
    settled: Settings,
) -> None:
    found = lines(settled)
    p5 = program_line(settled, "P5-2026Q2-growth")
    p6 = program_line(settled, "P6-2026Q2-growth")

    # P5: 1,000,000.00 against 800,000.00 in 2025Q2 at 5 %; P6 sold nothing
    # a year before. 2025 only compares: it has no growth line of its own.
    assert (p5["prior_year_volume"], p5["measured_basis"], p5["amount"]) == (
        Decimal("800000.000"),
        Decimal("200000.000"),
        Decimal("10000.00"),
    )
    assert (p6["prior_year_volume"], p6["measured_basis"], p6["amount"]) == (
        Decimal("0.000"),
        Decimal("2000.000"),
        Decimal("100.00"),
    )
    assert ("P5", "2025Q2", "growth") not in found


def test_collections_below_the_minimum_ratio_of_invoiced_pay_nothing(
    settled: Settings,
) -> None:
    p5 = program_line(settled, "P5-2026Q2-collected")
    p6 = program_line(settled, "P6-2026Q2-collected")

    # Payments rows: P5 collected 950,000.00 of 1,005,000.00 (94.5 %), P6
    # 1,000.00 of 2,000.00 (50 %); the program wants 90 %.
    assert [
        (
            line["cumulative_invoiced"],
            line["cumulative_collected"],
            line["is_eligible"],
            line["amount"],
        )
        for line in (p5, p6)
    ] == [
        (Decimal("1005000.00"), Decimal("950000.00"), True, Decimal("10050.00")),
        (Decimal("2000.00"), Decimal("1000.00"), False, Decimal("0.00")),
    ]


def test_a_product_and_partner_type_scope_counts_only_the_matching_lines(
    settled: Settings,
) -> None:
    found = lines(settled)
    with Warehouse(settled) as warehouse:
        sources = warehouse.query(
            "select statement_line_key, order_line_id "
            "from marts.fct_rebate_line_sources "
            "where statement_line_key like '%-distributor_sku'"
        )

    # SKU-D at a distributor: P5's L15 (0.1 % of 1,000,000.00); not P5's
    # SKU-E line, not the dealer P6's SKU-D line.
    assert found["P5", "2026Q2", "distributor_sku"][2] == Decimal("1000.00")
    assert sources == [("P5-2026Q2-distributor_sku", "L15")]
    assert ("P6", "2026Q2", "distributor_sku") not in found


def accruals(settings: Settings, partner: str, item: str) -> list[tuple[Any, ...]]:
    with Warehouse(settings) as warehouse:
        return warehouse.query(
            "select month_label, program_version, line_kind, "
            "accrued_to_date_amount, amount from marts.fct_rebate_accruals "
            "where partner_id = ? and line_item_id = ? order by month_label",
            (partner, item),
        )


def test_monthly_accruals_follow_the_annual_run_rate(settled: Settings) -> None:
    found = accruals(settled, "P1", "annual")

    # 1 % below 5,000 a year, 2 % from it; the year is open (data to August).
    # January: 3,800 * 12 = 45,600 projected, 2 %: 912.00 * 1/12 = 76.00.
    # July: 7,800 * 12 / 7 = 13,371.43, 267.43 * 7/12 = 156.00 after the
    # 2,000 return; each month's entry is the change in the accrual.
    assert [(m, kind, to_date, amount) for m, _, kind, to_date, amount in found] == [
        ("2026-01", "accrual", Decimal("76.00"), Decimal("76.00")),
        ("2026-02", "accrual", Decimal("96.00"), Decimal("20.00")),
        ("2026-03", "accrual", Decimal("96.00"), Decimal("0.00")),
        ("2026-04", "accrual", Decimal("196.00"), Decimal("100.00")),
        ("2026-05", "accrual", Decimal("196.00"), Decimal("0.00")),
        ("2026-06", "accrual", Decimal("196.00"), Decimal("0.00")),
        ("2026-07", "accrual", Decimal("156.00"), Decimal("-40.00")),
        ("2026-08", "accrual", Decimal("156.00"), Decimal("0.00")),
    ]


def test_a_period_closing_trues_up_to_the_settlement_under_its_version(
    settled: Settings,
) -> None:
    found = accruals(settled, "P3", "north")

    # v1 starts 2026-02-15: its 2026Q1 is February and March, P3's first
    # sale inside it is in March, so March closes the period straight away.
    # May: 700 * 3 / 2 = 1,050 projected, 105.00 * 2/3 = 70.00; June trues
    # up to the settled 70.00. v2's 2026Q3 accrues 300 * 3 / 2 at 20 %.
    assert found == [
        ("2026-03", 1, "true_up", Decimal("50.00"), Decimal("50.00")),
        ("2026-04", 1, "accrual", Decimal("0.00"), Decimal("0.00")),
        ("2026-05", 1, "accrual", Decimal("70.00"), Decimal("70.00")),
        ("2026-06", 1, "true_up", Decimal("70.00"), Decimal("0.00")),
        ("2026-08", 2, "accrual", Decimal("60.00"), Decimal("60.00")),
    ]


def test_the_accrual_report_totals_each_programs_lines_for_the_month(
    settled: Settings,
) -> None:
    with Warehouse(settled) as warehouse:
        report = accrual_report(warehouse, Month.parse("2026-06"))
        expected = warehouse.query(
            "select program_key, line_kind, count(distinct partner_id), sum(amount) "
            "from marts.fct_rebate_accruals where month_label = '2026-06' "
            "group by program_key, line_kind order by program_key, line_kind"
        )

    assert [
        (t.program_key, t.line_kind, t.partner_count, t.amount) for t in report.totals
    ] == [(key, kind, count, Decimal(amount)) for key, kind, count, amount in expected]
    assert report.amount == sum((t.amount for t in report.totals), Decimal("0.00"))
    # P3's June closes north v1's 2026Q2: the true-up to the settled 70.00.
    (p3,) = [
        line
        for line in report.lines
        if line["partner_id"] == "P3" and line["program_key"].startswith("north")
    ]
    assert (p3["line_kind"], p3["accrued_to_date_amount"], p3["amount"]) == (
        "true_up",
        Decimal("70.00"),
        Decimal("0.00"),
    )


def test_a_month_without_accruals_is_refused_with_what_to_do(
    settled: Settings,
) -> None:
    with (
        Warehouse(settled) as warehouse,
        pytest.raises(AccrualsMissing, match="2031-01.*channelops nightly"),
    ):
        accrual_report(warehouse, Month.parse("2031-01"))


# The command is shown on the DuckDB warehouse; the report above runs on both.
@pytest.mark.parametrize("settled", ["duckdb"], indirect=True)
def test_the_accruals_command_prints_totals_and_writes_every_line_as_csv(
    settled: Settings, tmp_path: Path
) -> None:
    out = tmp_path / "应计_2026-05.csv"
    env = {
        "CHANNELOPS_ENV": "local",
        "CHANNELOPS_HOME": str(settled.home),
        "CHANNELOPS_CONFIG_DIR": str(settled.config_dir),
    }

    result = CliRunner().invoke(
        app, ["accruals", "--month", "2026-05", "--out", str(out)], env=env
    )

    assert result.exit_code == 0, result.output
    with Warehouse(settled) as warehouse:
        report = accrual_report(warehouse, Month.parse("2026-05"))
    assert f"total {report.amount} CNY" in result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(report.lines)
    assert sum((Decimal(row["amount"]) for row in rows), Decimal("0.00")) == (
        report.amount
    )
    assert {row["month_label"] for row in rows} == {"2026-05"}

    refused = CliRunner().invoke(app, ["accruals", "--month", "2026-13"], env=env)
    assert refused.exit_code == 1
    assert "not a month" in refused.output


# Property tests: the compiled models run on examples hypothesis draws, on
# the same engine, against the independent reference in rebate_reference.

MONEY = st.decimals(min_value=0, max_value=2_000_000, places=2)
RATE = st.decimals(min_value=0, max_value=Decimal("0.2"), places=4)


@st.composite
def tier_tables(draw: st.DrawFn, *, rising: bool = False) -> list[Tier]:
    """1-4 tiers from 0 with an open top tier."""
    cuts = sorted(
        draw(
            st.sets(st.decimals(min_value=1, max_value=1_000_000, places=2), max_size=3)
        )
    )
    rates = draw(st.lists(RATE, min_size=len(cuts) + 1, max_size=len(cuts) + 1))
    if rising:
        rates = sorted(rates)
    lowers = [Decimal("0"), *cuts]
    uppers: list[Decimal | None] = [*cuts, None]
    return [Tier(lo, up, r) for lo, up, r in zip(lowers, uppers, rates, strict=True)]


class CompiledModels:
    """The entitlement and settlement models' compiled SQL, fed example tables."""

    def __init__(self, settings: Settings) -> None:
        compiled = (
            settings.dbt_work_dir
            / "target"
            / "compiled"
            / "channelops"
            / "models"
            / "intermediate"
            / "rebates"
        )
        relation = r'(?:"[^"]+"\.)?"(?:intermediate|staging)"\."{name}"'
        entitlements = (compiled / "int_rebates__entitlements.sql").read_text()
        for name, table in (
            ("int_rebates__program_basis", "issue3_basis"),
            ("stg_rules__rebate_programs", "issue3_programs"),
            ("stg_rules__rebate_tiers", "issue3_tiers"),
        ):
            entitlements = re.sub(relation.format(name=name), table, entitlements)
        settlements = (compiled / "int_rebates__settlements.sql").read_text()
        self.entitlements = entitlements
        self.settlements = re.sub(
            relation.format(name="int_rebates__entitlements"),
            lambda _: f"({entitlements}) as issue3_entitlements",
            settlements,
        )

    def run(
        self,
        warehouse: Warehouse,
        sql: str,
        bases: list[tuple[str, int, int, Decimal]],
        tiers: list[Tier],
        *,
        banding: str,
        bounds: str = "lower_inclusive",
        minimum: Decimal = Decimal("0"),
    ) -> list[dict[str, object]]:
        """``sql`` over (partner, quarter, accumulation, cumulative basis) rows."""
        for statement in (
            "delete from issue3_basis",
            "delete from issue3_programs",
            "delete from issue3_tiers",
        ):
            warehouse.execute(statement)
        warehouse.execute(
            "insert into issue3_programs values ('p', 'p', 'p', 1, 1, null, "
            "'net_sales', 'volume', ?, ?, null, null, ?)",
            (banding, bounds, minimum),
        )
        for number, tier in enumerate(tiers, start=1):
            warehouse.execute(
                "insert into issue3_tiers values ('p', ?, ?, ?, ?, ?, ?)",
                (number, f"t{number}", tier.lower, tier.upper, tier.rate, Decimal(0)),
            )
        for partner, quarter, accumulation, amount in bases:
            warehouse.execute(
                "insert into issue3_basis values "
                "('p', ?, 'Q', ?, ?, 0, 0, 0, ?, 0, 0, 0, 0, 0, 0, 0, null)",
                (partner, quarter, accumulation, amount),
            )
        return warehouse.query_dicts(
            f"select * from ({sql}) as result order by partner_id, quarter_index"
        )


EXAMPLE_TABLES = (
    """create temporary table issue3_programs (
        program_key varchar, line_item_id varchar, program_id varchar,
        program_version integer, component_no integer,
        program_cap_amount decimal(18,2), basis varchar,
        measure varchar, banding varchar,
        bounds varchar, min_collection_ratio decimal(9,6),
        cap_amount decimal(18,2), minimum_payout decimal(18,2))""",
    """create temporary table issue3_tiers (
        program_key varchar, tier_no integer, tier_name varchar,
        lower_bound decimal(18,3), upper_bound decimal(18,3),
        rate decimal(18,6), fixed_amount decimal(18,2))""",
    """create temporary table issue3_basis (
        program_key varchar, partner_id varchar, period varchar,
        quarter_index integer, accumulation_index integer,
        source_line_count integer, basis_amount decimal(18,2),
        basis_quantity decimal(18,3), cumulative_amount decimal(18,2),
        cumulative_quantity decimal(18,3), cumulative_invoiced decimal(18,2),
        cumulative_collected decimal(18,2), prior_year_amount decimal(18,2),
        prior_year_quantity decimal(18,3),
        cumulative_new_customers decimal(18,3),
        prior_year_new_customers decimal(18,3), target_amount decimal(18,2))""",
)


@pytest.fixture(scope="module")
def examples(settled: Settings) -> Iterator[tuple[Warehouse, CompiledModels]]:
    """A connection with empty example tables and the compiled models."""
    with Warehouse(settled) as warehouse:
        for statement in EXAMPLE_TABLES:
            warehouse.execute(statement)
        yield warehouse, CompiledModels(settled)


PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(
    tiers=tier_tables(),
    bases=st.lists(MONEY, min_size=1, max_size=4),
    banding=st.sampled_from(["retroactive", "incremental"]),
    bounds=st.sampled_from(["lower_inclusive", "upper_inclusive"]),
)
def test_the_models_agree_with_the_reference_to_the_fen(
    examples: tuple[Warehouse, CompiledModels],
    tiers: list[Tier],
    bases: list[Decimal],
    banding: str,
    bounds: str,
) -> None:
    warehouse, models = examples
    rows = [(f"x{n}", 1, 1, amount) for n, amount in enumerate(bases)]

    found = models.run(
        warehouse, models.entitlements, rows, tiers, banding=banding, bounds=bounds
    )

    assert [row["entitlement_amount"] for row in found] == [
        reference.entitlement(amount, tiers, banding, bounds) for amount in bases
    ]


@PROPERTY_SETTINGS
@given(tiers=tier_tables(rising=True), basis=MONEY)
def test_incremental_never_exceeds_retroactive_for_rising_rates(
    examples: tuple[Warehouse, CompiledModels], tiers: list[Tier], basis: Decimal
) -> None:
    warehouse, models = examples
    rows = [("x", 1, 1, basis)]

    [retroactive] = models.run(
        warehouse, models.entitlements, rows, tiers, banding="retroactive"
    )
    [incremental] = models.run(
        warehouse, models.entitlements, rows, tiers, banding="incremental"
    )

    assert incremental["entitlement_amount"] <= retroactive["entitlement_amount"]


@PROPERTY_SETTINGS
@given(
    tiers=tier_tables(),
    quarters=st.lists(
        st.decimals(min_value=-200_000, max_value=1_000_000, places=2),
        min_size=4,
        max_size=4,
    ),
    banding=st.sampled_from(["retroactive", "incremental"]),
    minimum=st.sampled_from([Decimal("0"), Decimal("500.00")]),
)
def test_a_year_settled_quarterly_pays_what_settling_it_once_pays(
    examples: tuple[Warehouse, CompiledModels],
    tiers: list[Tier],
    quarters: list[Decimal],
    banding: str,
    minimum: Decimal,
) -> None:
    warehouse, models = examples
    cumulative = [sum(quarters[: n + 1], Decimal("0")) for n in range(4)]
    quarterly = [("q", n, 0, amount) for n, amount in enumerate(cumulative)]

    settled_quarterly = models.run(
        warehouse,
        models.settlements,
        quarterly,
        tiers,
        banding=banding,
        minimum=minimum,
    )
    [settled_once] = models.run(
        warehouse,
        models.settlements,
        [("y", 0, 0, cumulative[-1])],
        tiers,
        banding=banding,
        minimum=minimum,
    )

    paid = sum((Decimal(str(r["amount"])) for r in settled_quarterly), Decimal("0"))
    left = settled_quarterly[-1]["carried_out_amount"]
    assert paid + left == settled_once["amount"] + settled_once["carried_out_amount"]
    movements = [
        reference.entitlement(amount, tiers, banding, "lower_inclusive")
        for amount in cumulative
    ]
    expected = reference.settle(
        [b - a for a, b in zip([Decimal("0"), *movements], movements, strict=False)],
        minimum,
    )
    assert [
        (r["carried_in_amount"], r["amount"], r["carried_out_amount"])
        for r in settled_quarterly
    ] == expected

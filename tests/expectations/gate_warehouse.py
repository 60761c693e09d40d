"""A tiny warehouse for the gate tests: every table the gate reads, one good quarter.

The raw and ops tables are created by the product's own DDL (so they follow
the input contract); the marts and the ledger are small stand-ins with the
columns the gate reads. The same SQL builds it on DuckDB and PostgreSQL. On
the good data every check passes for ``PERIOD`` as of ``TODAY``; each entry
of ``BREAKAGES`` is the SQL that makes that one check fail. The helpers at
the end run SQL on either backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from pathlib import Path

import duckdb
import psycopg2

from channelops.contract import DATASETS
from channelops.periods import Month, Quarter
from channelops.publish import (
    LEDGER_DDL,
    SETTLEMENT_LEDGER_DDL,
    SETTLEMENT_VERSIONS_DDL,
)
from channelops.rules.adjustments import ADJUSTMENTS_DDL
from channelops.warehouse import OPS_DDL, raw_table_ddl
from expectations.checks import Scope

PERIOD = "2026Q3"
MONTH = "2026-09"
TODAY = date(2026, 12, 4)
CURRENCY = "CNY"
SCHEMAS = ("raw", "config", "ops", "intermediate", "marts")


def scope(period: str = PERIOD) -> Scope:
    return Scope(Quarter.parse(period), CURRENCY, TODAY)


def month_scope(month: str = MONTH) -> Scope:
    """What a monthly scorecard run for ``month`` gates."""
    return Scope.for_month(Month.parse(month), CURRENCY, TODAY)


SCHEMA_SQL = (
    *OPS_DDL,
    *(raw_table_ddl(name) for name in DATASETS),
    "create schema if not exists marts",
    """
    create table marts.fct_partner_scorecard (
        partner_id varchar,
        period varchar,
        net_sales decimal(18, 2),
        score decimal(7, 2),
        tier varchar
    )
    """,
    """
    create table marts.fct_partner_scorecard_monthly (
        partner_id varchar,
        period varchar,
        score decimal(7, 2),
        tier varchar,
        tier_label_zh varchar,
        tier_label_en varchar,
        score_rank bigint,
        scored_partner_count bigint
    )
    """,
    """
    create table marts.fct_churn_risk (
        partner_id varchar,
        grain varchar,
        period varchar,
        risk_level varchar,
        reason_count bigint
    )
    """,
    "create table config.scorecard_tiers (tier varchar)",
    """
    create table marts.fct_rebate_statement_lines (
        statement_key varchar,
        period varchar,
        line_no integer,
        program_id varchar,
        basis_amount decimal(18, 2),
        rate decimal(9, 6),
        amount decimal(18, 2),
        line_kind varchar
    )
    """,
    """
    create table marts.fct_rebate_statements (
        statement_key varchar,
        partner_id varchar,
        period varchar,
        currency varchar,
        net_sales decimal(18, 2),
        line_count integer,
        total_amount decimal(18, 2)
    )
    """,
    """
    create table marts.dim_partners (
        partner_id varchar,
        partner_name varchar
    )
    """,
    "create schema if not exists intermediate",
    """
    create table intermediate.int_rebates__settlements (
        program_id varchar,
        partner_id varchar,
        period varchar,
        amount decimal(18, 2)
    )
    """,
    ADJUSTMENTS_DDL,
    LEDGER_DDL,
    SETTLEMENT_VERSIONS_DDL,
    SETTLEMENT_LEDGER_DDL,
)

_LINEAGE = "_source, _file_name, _row_number, _batch_id"

GOOD_DATA_SQL = (
    f"""
    insert into raw.partners (partner_id, partner_name, parent_partner_id,
        region, partner_type, joined_date, status, {_LINEAGE}) values
        ('P001', 'Alpha Trading', null, 'east', 'reseller', date '2024-01-15',
            'active', 'acme', 'partners.csv', 2, 'b1'),
        ('P002', 'Beta Systems', 'P001', 'north', 'distributor',
            date '2025-03-01', 'active', 'acme', 'partners.csv', 3, 'b1'),
        ('P003', 'Gamma Retail', null, 'south', 'reseller', date '2026-09-01',
            null, 'acme', 'partners.csv', 4, 'b1')
    """,
    f"""
    insert into raw.partner_contacts (partner_id, email, contact_name, language,
        {_LINEAGE}) values
        ('P001', 'li@alpha.example.com', 'Li', 'zh-CN', 'acme', 'contacts.csv',
            2, 'b1'),
        ('P002', 'wang@beta.example.com', 'Wang', 'en', 'acme', 'contacts.csv',
            3, 'b1')
    """,
    # Two lines of the previous quarter, four of this one: not collapsed.
    f"""
    insert into raw.order_lines (order_line_id, order_id, partner_id,
        order_date, product_id, product_category, customer_id, quantity,
        unit_price, net_amount, currency, line_type, {_LINEAGE}) values
        ('L01', 'O01', 'P001', date '2026-05-10', 'SKU1', 'hardware', 'C1',
            1.000, 100.0000, 100.00, 'CNY', 'sale', 'acme', 'q2.csv', 2, 'b1'),
        ('L02', 'O02', 'P002', date '2026-06-01', 'SKU2', 'software', 'C2',
            2.000, 50.0000, 100.00, 'CNY', 'sale', 'acme', 'q2.csv', 3, 'b1'),
        ('L11', 'O11', 'P001', date '2026-07-01', 'SKU1', 'hardware', 'C1',
            10.000, 100.0000, 1000.00, 'CNY', 'sale', 'acme', 'q3.csv', 2, 'b1'),
        ('L12', 'O12', 'P001', date '2026-08-15', 'SKU1', 'hardware', 'C1',
            1.000, 100.0000, 100.00, 'CNY', 'return', 'acme', 'q3.csv', 3, 'b1'),
        ('L13', 'O13', 'P002', date '2026-09-30', 'SKU2', 'software', 'C3',
            5.000, 100.0000, 500.00, 'CNY', 'sale', 'acme', 'q3.csv', 4, 'b1'),
        ('L14', 'O13', 'P002', date '2026-09-30', 'SKU3', 'service', 'C3',
            1.000, 5.0000, 5.00, 'CNY', 'rebate_credit', 'acme', 'q3.csv', 5,
            'b1')
    """,
    f"""
    insert into raw.payments (payment_id, partner_id, paid_date, amount,
        currency, {_LINEAGE}) values
        ('Y01', 'P001', date '2026-06-30', 100.00, 'CNY', 'acme',
            'payments.csv', 2, 'b1'),
        ('Y02', 'P001', date '2026-09-01', 900.00, 'CNY', 'acme',
            'payments.csv', 3, 'b1'),
        ('Y03', 'P002', date '2026-08-01', 400.00, 'CNY', 'acme',
            'payments.csv', 4, 'b1')
    """,
    f"""
    insert into raw.feedback (feedback_id, partner_id, kind, created_at,
        first_response_at, resolved_at, satisfaction, subject, {_LINEAGE})
        values
        ('F01', 'P001', 'complaint', timestamp '2026-06-10 01:00:00',
            timestamp '2026-06-10 04:00:00', null, null, 'late delivery',
            'acme', 'feedback.csv', 2, 'b1'),
        ('F02', 'P002', 'ticket', timestamp '2026-07-05 02:00:00',
            timestamp '2026-07-05 03:00:00', timestamp '2026-07-06 08:00:00',
            4.5, 'invoice copy', 'acme', 'feedback.csv', 3, 'b1')
    """,
    f"""
    insert into raw.activities (activity_id, partner_id, activity_type,
        activity_name, start_date, end_date, cost, currency, {_LINEAGE})
        values
        ('A01', 'P001', 'promotion', 'Summer sale', date '2026-07-01',
            date '2026-07-31', 2000.00, 'CNY', 'acme', 'activities.csv', 2,
            'b1'),
        ('A02', 'P002', 'training', 'Product intro', date '2026-06-15', null,
            null, null, 'acme', 'activities.csv', 3, 'b1')
    """,
    f"""
    insert into raw.targets (partner_id, period, target_amount, currency,
        {_LINEAGE}) values
        ('P001', '2026Q3', 1200.00, 'CNY', 'acme', 'targets.csv', 2, 'b1'),
        ('P002', '2026Q3', 600.00, 'CNY', 'acme', 'targets.csv', 3, 'b1')
    """,
    # b0 loaded an earlier version of q3.csv that did not reconcile; only
    # each file's latest load counts.
    """
    insert into ops.load_files values
        ('b0', 'acme', 'order_lines', 'q3.csv', 'old', 5, 3, 1,
            timestamp '2026-10-01 08:00:00'),
        ('b1', 'acme', 'partners', 'partners.csv', 'h1', 3, 3, 0,
            timestamp '2026-10-02 08:00:00'),
        ('b1', 'acme', 'partner_contacts', 'contacts.csv', 'h2', 2, 2, 0,
            timestamp '2026-10-02 08:00:01'),
        ('b1', 'acme', 'order_lines', 'q2.csv', 'h3', 2, 2, 0,
            timestamp '2026-10-02 08:00:02'),
        ('b1', 'acme', 'order_lines', 'q3.csv', 'h4', 4, 4, 0,
            timestamp '2026-10-02 08:00:03'),
        ('b1', 'acme', 'payments', 'payments.csv', 'h5', 3, 3, 0,
            timestamp '2026-10-02 08:00:04'),
        ('b1', 'acme', 'feedback', 'feedback.csv', 'h6', 2, 2, 0,
            timestamp '2026-10-02 08:00:05'),
        ('b1', 'acme', 'activities', 'activities.csv', 'h7', 2, 2, 0,
            timestamp '2026-10-02 08:00:06'),
        ('b1', 'acme', 'targets', 'targets.csv', 'h8', 2, 2, 0,
            timestamp '2026-10-02 08:00:07')
    """,
    # P003 joined late and sold nothing, so it needs no statement.
    """
    insert into marts.fct_partner_scorecard values
        ('P001', '2026Q2', 100.00, 40.00, 'bronze'),
        ('P002', '2026Q2', 100.00, 35.00, 'bronze'),
        ('P001', '2026Q3', 900.00, 80.50, 'gold'),
        ('P002', '2026Q3', 500.00, 61.25, 'silver'),
        ('P003', '2026Q3', 0.00, null, 'none')
    """,
    "insert into config.scorecard_tiers values "
    "('gold'), ('silver'), ('bronze'), ('none')",
    # Only P002 sold in 2026-09; P001 keeps a monthly row from its first month.
    """
    insert into marts.fct_partner_scorecard_monthly values
        ('P001', '2026-07', 90.00, 'gold', '金牌', 'Gold', 1, 1),
        ('P001', '2026-08', 20.00, 'bronze', '铜牌', 'Bronze', 1, 1),
        ('P001', '2026-09', null, 'none', '数据不足', 'Insufficient data',
            null, 1),
        ('P002', '2026-09', 70.00, 'silver', '银牌', 'Silver', 1, 1)
    """,
    # P001's monthly rows share the period label's table but not its grain.
    """
    insert into marts.fct_churn_risk values
        ('P001', 'quarter', '2026Q3', 'none', 0),
        ('P002', 'quarter', '2026Q3', 'high', 3),
        ('P001', 'month', '2026-07', 'low', 1),
        ('P001', 'month', '2026-08', 'low', 1)
    """,
    """
    insert into marts.fct_rebate_statement_lines values
        ('P001-2026Q2', '2026Q2', 1, 'growth', 100.00, 0.010000, 1.00,
            'program'),
        ('P001-2026Q3', '2026Q3', 1, 'growth', 900.00, 0.030000, 27.00,
            'program'),
        ('P001-2026Q3', '2026Q3', 2, 'loyalty', 900.00, 0.010000, 9.00,
            'program'),
        ('P002-2026Q3', '2026Q3', 1, 'growth', 500.00, 0.020000, 10.00,
            'program'),
        ('P002-2026Q3', '2026Q3', 2, 'adjustment-A1', 0.00, 0.000000, -5.00,
            'adjustment'),
        ('P002-2026Q3', '2026Q3', 3, 'adjustment-A2', 0.00, 0.000000, 5.00,
            'adjustment')
    """,
    """
    insert into marts.fct_rebate_statements values
        ('P001-2026Q2', 'P001', '2026Q2', 'CNY', 100.00, 1, 1.00),
        ('P001-2026Q3', 'P001', '2026Q3', 'CNY', 900.00, 2, 36.00),
        ('P002-2026Q3', 'P002', '2026Q3', 'CNY', 500.00, 1, 10.00)
    """,
    """
    insert into marts.dim_partners values
        ('P001', 'Alpha Trading'),
        ('P002', 'Beta Systems'),
        ('P003', 'Gamma Retail')
    """,
    # What the programs settle, before the statement lines: P003's zero
    # settlement has no line; 2026Q2's is another period.
    """
    insert into intermediate.int_rebates__settlements values
        ('growth', 'P001', '2026Q2', 1.00),
        ('growth', 'P001', '2026Q3', 27.00),
        ('loyalty', 'P001', '2026Q3', 9.00),
        ('growth', 'P002', '2026Q3', 10.00),
        ('growth', 'P003', '2026Q3', 0.00)
    """,
    # A1 and A2 are approved and on P002's statement; A3 is not approved.
    """
    insert into config.rebate_adjustments values
        ('A1', 'P002', '2026Q3', null, -5.00, 'short shipment', 'approved',
            'finance'),
        ('A2', 'P002', '2026Q3', null, 5.00, 'goodwill', 'approved',
            'finance'),
        ('A3', 'P001', '2026Q3', 'growth', 100.00, 'year-end deal',
            'pending', null)
    """,
    # P001's 2026Q3 statement was published twice: v2 is a correction whose
    # one delta line adds 6.00 to v1's 30.00.
    """
    insert into ops.statement_versions values
        ('P001-2026Q3', 'P001', '2026Q3', 1, 'c1', 'CNY', 30.00, 2, 'v1.json',
            'i1', '0.1.0', 'run-1', timestamp '2026-10-03 08:00:00'),
        ('P001-2026Q3', 'P001', '2026Q3', 2, 'c2', 'CNY', 6.00, 1, 'v2.json',
            'i2', '0.1.0', 'run-2', timestamp '2026-10-04 08:00:00'),
        ('P002-2026Q3', 'P002', '2026Q3', 1, 'c3', 'CNY', 10.00, 1, 'v1.json',
            'i1', '0.1.0', 'run-1', timestamp '2026-10-03 08:00:00')
    """,
    """
    insert into ops.settlement_versions values
        ('P001-2026Q3', 'P001', '2026Q3', 1, 's1', 'growth v1, loyalty v1',
            'i1', '0.1.0', 'first settlement of the period', 'run-1',
            timestamp '2026-10-03 08:00:00', 'd1', 'r1'),
        ('P001-2026Q3', 'P001', '2026Q3', 2, 's2', 'growth v1, loyalty v1',
            'i2', '0.1.0', 'corrects v1: input files changed', 'run-2',
            timestamp '2026-10-04 08:00:00', 'd2', 'r1'),
        ('P002-2026Q3', 'P002', '2026Q3', 1, 's3', 'growth v1', 'i1',
            '0.1.0', 'first settlement of the period', 'run-1',
            timestamp '2026-10-03 08:00:00', 'd1', 'r1')
    """,
    # Their movements: v2 of P001 corrects v1 by +6.00.
    """
    insert into ops.settlement_ledger values
        ('P001-2026Q3', 'P001-2026Q3-growth', 'P001', '2026Q3', 1, 'growth',
            1, 21.00, 'run-1', timestamp '2026-10-03 08:00:00'),
        ('P001-2026Q3', 'P001-2026Q3-loyalty', 'P001', '2026Q3', 1, 'loyalty',
            1, 9.00, 'run-1', timestamp '2026-10-03 08:00:00'),
        ('P001-2026Q3', 'P001-2026Q3-growth', 'P001', '2026Q3', 2, 'growth',
            1, 6.00, 'run-2', timestamp '2026-10-04 08:00:00'),
        ('P002-2026Q3', 'P002-2026Q3-growth', 'P002', '2026Q3', 1, 'growth',
            1, 10.00, 'run-1', timestamp '2026-10-03 08:00:00')
    """,
)

# One row per dataset that the generic breakages copy or change: its key
# condition and a non-key required field.
_SAMPLE = {
    "partners": ("partner_id = 'P002'", "partner_name"),
    "partner_contacts": ("partner_id = 'P002'", "email"),
    "order_lines": ("order_line_id = 'L13'", "order_id"),
    "payments": ("payment_id = 'Y03'", "paid_date"),
    "feedback": ("feedback_id = 'F02'", "kind"),
    "activities": ("activity_id = 'A01'", "activity_type"),
    "targets": ("partner_id = 'P002'", "target_amount"),
}
FILES = {
    "partners": "partners.csv",
    "partner_contacts": "contacts.csv",
    "order_lines": "q3.csv",
    "payments": "payments.csv",
    "feedback": "feedback.csv",
    "activities": "activities.csv",
    "targets": "targets.csv",
}


def _count_one_more(dataset: str, *, quarantined: bool) -> str:
    counter = "rows_quarantined" if quarantined else "rows_loaded"
    return (
        f"update ops.load_files set rows_read = rows_read + 1, "
        f"{counter} = {counter} + 1 "
        f"where dataset = '{dataset}' and file_name = '{FILES[dataset]}'"
    )


def _generic_breakages(dataset: str) -> dict[str, tuple[str, ...]]:
    where, required = _SAMPLE[dataset]
    table = f"raw.{dataset}"
    return {
        f"{dataset}_columns_match_contract": (
            f"alter table {table} alter column _row_number type varchar",
        ),
        f"{dataset}_key_unique": (
            f"insert into {table} select * from {table} where {where}",
            _count_one_more(dataset, quarantined=False),
        ),
        f"{dataset}_required_fields_present": (
            f"update {table} set {required} = null where {where}",
        ),
        f"{dataset}_files_reconcile": (
            f"update ops.load_files set rows_loaded = rows_loaded + 1 "
            f"where dataset = '{dataset}' and batch_id = 'b1'",
        ),
        f"{dataset}_nothing_quarantined": (
            "insert into ops.quarantine values ('b1', 'acme', "
            f"'{dataset}', '{FILES[dataset]}', 9, 'amount', '1,2,3', "
            "'is not a number')",
            _count_one_more(dataset, quarantined=True),
        ),
    }


def quarantined_unknown_partner(dataset: str) -> tuple[str, ...]:
    """The pull took a row of ``dataset`` back: its partner P404 is unknown."""
    return (
        "insert into ops.quarantine values ('b1', 'acme', "
        f"'{dataset}', '{FILES[dataset]}', 7, 'partner_id', 'P404', "
        "'unknown partner: not in the partner master data; add the partner "
        "to the partners file or correct the code')",
        _count_one_more(dataset, quarantined=True),
    )


# The inputs with a partner reference.
REFERENCING = tuple(
    name
    for name in DATASETS
    if name != "partners" and "partner_id" in DATASETS[name].field_names
)


def _partner_unknown(dataset: str) -> dict[str, tuple[str, ...]]:
    where, _ = _SAMPLE[dataset]
    return {
        f"{dataset}_partner_known": (
            f"update raw.{dataset} set partner_id = 'P404' where {where}",
        )
    }


def _older_rows(dataset: str, column: str, *, copies: int) -> tuple[str, ...]:
    """Copies of the sample row dated in the previous quarter, in a file of
    their own that is counted as loaded."""
    where, _ = _SAMPLE[dataset]
    key = DATASETS[dataset].key[0]
    columns = [*DATASETS[dataset].field_names, *_LINEAGE.split(", ")]

    def value(column_name: str, copy: int) -> str:
        changed = {
            key: f"'OLD{copy}'",
            column: "date '2026-04-02'",
            "_file_name": "'old.csv'",
            "_row_number": str(copy + 2),
        }
        return changed.get(column_name, column_name)

    statements = [
        f"insert into raw.{dataset} ({', '.join(columns)}) "
        f"select {', '.join(value(name, copy) for name in columns)} "
        f"from raw.{dataset} where {where}"
        for copy in range(copies)
    ]
    statements.append(
        f"insert into ops.load_files values ('b1', 'acme', '{dataset}', "
        f"'old.csv', 'h9', {copies}, {copies}, 0, timestamp '2026-10-02 09:00:00')"
    )
    return tuple(statements)


BREAKAGES: dict[str, tuple[str, ...]] = {
    **{
        name: statements
        for dataset in DATASETS
        for name, statements in _generic_breakages(dataset).items()
    },
    **{
        name: statements
        for dataset in REFERENCING
        for name, statements in _partner_unknown(dataset).items()
    },
    "partners_status_allowed": (
        "update raw.partners set status = 'paused' where partner_id = 'P002'",
    ),
    "partners_dates_in_range": (
        "update raw.partners set joined_date = date '1899-12-30' "
        "where partner_id = 'P002'",
    ),
    **{
        f"{dataset}_present": (
            f"delete from raw.{dataset}",
            "update ops.load_files set rows_read = 0, rows_loaded = 0 "
            f"where dataset = '{dataset}'",
        )
        for dataset in DATASETS
        if dataset != "order_lines"
    },
    "partner_contacts_language_allowed": (
        "update raw.partner_contacts set language = 'fr' where partner_id = 'P002'",
    ),
    "order_lines_line_type_allowed": (
        "update raw.order_lines set line_type = 'credit' where order_line_id = 'L14'",
    ),
    "order_lines_quantity_in_range": (
        "update raw.order_lines set quantity = -1.000 where order_line_id = 'L12'",
    ),
    "order_lines_unit_price_in_range": (
        "update raw.order_lines set unit_price = -5.0000 where order_line_id = 'L12'",
    ),
    "order_lines_net_amount_in_range": (
        "update raw.order_lines set net_amount = -100.00 where order_line_id = 'L12'",
    ),
    "order_lines_currency_known": (
        "update raw.order_lines set currency = 'USD' where order_line_id = 'L13'",
    ),
    # A typo in the year: 2062 instead of 2026.
    "order_lines_dates_in_range": (
        "update raw.order_lines set order_date = date '2062-05-10' "
        "where order_line_id = 'L01'",
    ),
    "order_lines_present_in_period": (
        "delete from raw.order_lines where _file_name = 'q3.csv'",
        "update ops.load_files set rows_read = 0, rows_loaded = 0 "
        "where file_name = 'q3.csv' and batch_id = 'b1'",
    ),
    "order_lines_not_collapsed": _older_rows("order_lines", "order_date", copies=7),
    "order_lines_no_duplicate_looking_orders": (
        "update raw.order_lines set order_date = date '2026-07-01', "
        "net_amount = 1000.00 where order_line_id = 'L13'",
        "update raw.order_lines set partner_id = 'P001', order_id = 'O14' "
        "where order_line_id = 'L13'",
    ),
    "payments_amount_in_range": (
        "update raw.payments set amount = -1.00 where payment_id = 'Y03'",
    ),
    "payments_currency_known": (
        "update raw.payments set currency = 'HKD' where payment_id = 'Y03'",
    ),
    "payments_dates_in_range": (
        "update raw.payments set paid_date = date '2027-01-15' "
        "where payment_id = 'Y03'",
    ),
    "payments_not_collapsed": _older_rows("payments", "paid_date", copies=5),
    "feedback_kind_allowed": (
        "update raw.feedback set kind = 'praise' where feedback_id = 'F02'",
    ),
    "feedback_satisfaction_in_range": (
        "update raw.feedback set satisfaction = 9.0 where feedback_id = 'F02'",
    ),
    "feedback_dates_in_range": (
        "update raw.feedback set resolved_at = timestamp '2027-07-06 08:00:00' "
        "where feedback_id = 'F02'",
    ),
    "feedback_not_collapsed": (
        "update raw.feedback set created_at = timestamp '2026-06-05 02:00:00' "
        "where feedback_id = 'F02'",
    ),
    "activities_activity_type_allowed": (
        "update raw.activities set activity_type = 'party' where activity_id = 'A01'",
    ),
    "activities_cost_in_range": (
        "update raw.activities set cost = -2000.00 where activity_id = 'A01'",
    ),
    "activities_currency_known": (
        "update raw.activities set currency = 'EUR' where activity_id = 'A01'",
    ),
    "activities_dates_in_range": (
        "update raw.activities set end_date = date '2027-07-31' "
        "where activity_id = 'A01'",
    ),
    "activities_not_collapsed": (
        "update raw.activities set start_date = date '2026-05-01' "
        "where activity_id = 'A01'",
    ),
    "targets_target_amount_in_range": (
        "update raw.targets set target_amount = -600.00 where partner_id = 'P002'",
    ),
    "targets_currency_known": (
        "update raw.targets set currency = 'USD' where partner_id = 'P002'",
    ),
    "partner_scorecard_columns_present": (
        "alter table marts.fct_partner_scorecard alter column net_sales type float8",
    ),
    "partner_scorecard_present_in_period": (
        "delete from marts.fct_partner_scorecard where period = '2026Q3'",
    ),
    "partner_scorecard_partner_id_not_null": (
        "update marts.fct_partner_scorecard set partner_id = null "
        "where partner_id = 'P003'",
    ),
    "partner_scorecard_partner_period_unique": (
        "insert into marts.fct_partner_scorecard "
        "values ('P003', '2026Q3', 0.00, null, 'none')",
    ),
    "partner_scorecard_covers_active_partners": (
        "delete from marts.fct_partner_scorecard "
        "where partner_id = 'P002' and period = '2026Q3'",
    ),
    "partner_scorecard_score_in_range": (
        "update marts.fct_partner_scorecard set score = 100.50 "
        "where partner_id = 'P001' and period = '2026Q3'",
    ),
    "partner_scorecard_tier_configured": (
        "update marts.fct_partner_scorecard set tier = 'platinum' "
        "where partner_id = 'P002' and period = '2026Q3'",
    ),
    "partner_scorecard_monthly_columns_present": (
        "alter table marts.fct_partner_scorecard_monthly "
        "alter column score type float8",
    ),
    "partner_scorecard_monthly_present_in_month": (
        "delete from marts.fct_partner_scorecard_monthly where period = '2026-09'",
    ),
    "partner_scorecard_monthly_partner_id_not_null": (
        "update marts.fct_partner_scorecard_monthly set partner_id = null "
        "where partner_id = 'P001' and period = '2026-09'",
    ),
    "partner_scorecard_monthly_partner_period_unique": (
        "insert into marts.fct_partner_scorecard_monthly values "
        "('P002', '2026-09', 70.00, 'silver', '银牌', 'Silver', 1, 1)",
    ),
    # The month before still has P002's row: only the month mailed counts.
    "partner_scorecard_monthly_covers_active_partners": (
        "update marts.fct_partner_scorecard_monthly set period = '2026-08' "
        "where partner_id = 'P002' and period = '2026-09'",
    ),
    "partner_scorecard_monthly_score_in_range": (
        "update marts.fct_partner_scorecard_monthly set score = -0.01 "
        "where partner_id = 'P002' and period = '2026-09'",
    ),
    "partner_scorecard_monthly_tier_configured": (
        "update marts.fct_partner_scorecard_monthly set tier = 'platinum' "
        "where partner_id = 'P002' and period = '2026-09'",
    ),
    "churn_risk_columns_present": (
        "alter table marts.fct_churn_risk drop column reason_count",
    ),
    "churn_risk_partner_period_unique": (
        "insert into marts.fct_churn_risk "
        "values ('P002', 'quarter', '2026Q3', 'low', 1)",
    ),
    "churn_risk_level_known": (
        "update marts.fct_churn_risk set risk_level = 'severe' "
        "where partner_id = 'P002' and grain = 'quarter'",
    ),
    "rebate_statements_columns_present": (
        "alter table marts.fct_rebate_statements alter column total_amount type float8",
    ),
    "rebate_statements_present_in_period": (
        "delete from marts.fct_rebate_statements where period = '2026Q3'",
    ),
    "rebate_statements_statement_key_not_null": (
        "insert into marts.fct_rebate_statements "
        "values (null, 'P003', '2026Q3', 'CNY', 0.00, 0, 0.00)",
    ),
    "rebate_statements_statement_key_unique": (
        "insert into marts.fct_rebate_statements "
        "values ('P002-2026Q3', 'P002', '2026Q3', 'CNY', 500.00, 1, 10.00)",
    ),
    "rebate_statements_currency_known": (
        "update marts.fct_rebate_statements set currency = 'USD' "
        "where statement_key = 'P002-2026Q3'",
    ),
    "rebate_statements_cover_active_partners": (
        "update marts.fct_rebate_statements set partner_id = 'P003' "
        "where statement_key = 'P002-2026Q3'",
    ),
    "rebate_statements_rate_within_ceiling": (
        "update marts.fct_rebate_statements set net_sales = 99.99 "
        "where statement_key = 'P002-2026Q3'",
    ),
    "rebate_statements_sales_plausible": (
        "update marts.fct_rebate_statements set net_sales = 100000.00 "
        "where statement_key = 'P001-2026Q3'",
    ),
    "rebate_statement_lines_columns_present": (
        "alter table marts.fct_rebate_statement_lines alter column rate type float8",
    ),
    "rebate_statement_lines_key_unique": (
        "update marts.fct_rebate_statement_lines set line_no = 1 "
        "where statement_key = 'P001-2026Q3' and line_no = 2",
    ),
    "rebate_statement_lines_amount_not_null": (
        "update marts.fct_rebate_statement_lines set amount = null "
        "where statement_key = 'P002-2026Q3'",
    ),
    "rebate_statement_lines_amount_not_negative": (
        "update marts.fct_rebate_statement_lines set amount = -9.00 "
        "where statement_key = 'P001-2026Q3' and line_no = 2",
    ),
    "statement_totals_match_lines": (
        "update marts.fct_rebate_statements set total_amount = 36.01 "
        "where statement_key = 'P001-2026Q3'",
    ),
    # A zero line keeps every total right and still has no statement.
    "statement_lines_belong_to_statements": (
        "insert into marts.fct_rebate_statement_lines values "
        "('P009-2026Q3', '2026Q3', 1, 'growth', 0.00, 0.010000, 0.00, "
        "'program')",
    ),
    # The marts lost P001's loyalty line and its total followed: they agree
    # with themselves, not with what the programs settled.
    "period_total_matches_rebate_settlements": (
        "delete from marts.fct_rebate_statement_lines "
        "where statement_key = 'P001-2026Q3' and line_no = 2",
        "update marts.fct_rebate_statements set total_amount = 27.00, "
        "line_count = 1 where statement_key = 'P001-2026Q3'",
    ),
    "statements_reach_the_ledger": (
        "delete from marts.dim_partners where partner_id = 'P002'",
    ),
    # v2 renumbered v3 throughout the ledger: its movements still match.
    "statement_ledger_versions_contiguous": tuple(
        f"update {table} set version = 3 "
        "where statement_key = 'P001-2026Q3' and version = 2"
        for table in (
            "ops.statement_versions",
            "ops.settlement_versions",
            "ops.settlement_ledger",
        )
    ),
    # A version published with no movements at all.
    "statement_ledger_versions_match_movements": (
        "delete from ops.settlement_ledger where statement_key = 'P002-2026Q3'",
    ),
    # P002's sales vanished: nothing settled, no statement, no lines.
    "statement_ledger_statements_still_computed": (
        "delete from intermediate.int_rebates__settlements where partner_id = 'P002'",
        "delete from marts.fct_rebate_statement_lines "
        "where statement_key = 'P002-2026Q3'",
        "delete from marts.fct_rebate_statements where statement_key = 'P002-2026Q3'",
    ),
}


POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/{database}"


def duckdb_url(path: Path) -> str:
    return f"duckdb:///{path}"


def run_duckdb_sql(path: Path, statements: Iterable[str]) -> None:
    connection = duckdb.connect(str(path))
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def run_postgres_sql(database: str, statements: Iterable[str]) -> None:
    connection = psycopg2.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname=database
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()

"""A tiny warehouse for the gate tests: the tables the gate reads, one good quarter.

The same SQL builds it on DuckDB and PostgreSQL. On the good data every check
passes for ``PERIOD``; each entry of ``BREAKAGES`` is the SQL that makes
exactly one check fail. Rows outside the quarter and an older load batch are
deliberately bad, to show the gate only looks at what it publishes. The
helpers at the end run SQL on either backend.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb
import psycopg2

PERIOD = "2026Q3"

SCHEMA_SQL = (
    "create schema raw",
    "create schema ops",
    "create schema marts",
    """
    create table ops.load_files (
        batch_id varchar,
        source varchar,
        dataset varchar,
        file_name varchar,
        file_sha256 varchar,
        rows_read integer,
        rows_loaded integer,
        rows_quarantined integer,
        loaded_at timestamp
    )
    """,
    """
    create table ops.quarantine (
        batch_id varchar,
        source varchar,
        dataset varchar,
        file_name varchar,
        row_number integer,
        field varchar,
        value varchar,
        reason varchar
    )
    """,
    """
    create table raw.partners (
        partner_id varchar,
        partner_name varchar,
        parent_partner_id varchar,
        region varchar,
        partner_type varchar,
        joined_date date,
        status varchar,
        _source varchar,
        _file_name varchar,
        _row_number integer,
        _batch_id varchar
    )
    """,
    """
    create table raw.order_lines (
        order_line_id varchar,
        order_id varchar,
        partner_id varchar,
        order_date date,
        product_id varchar,
        product_category varchar,
        quantity decimal(18, 3),
        unit_price decimal(18, 4),
        net_amount decimal(18, 2),
        currency varchar,
        line_type varchar,
        _source varchar,
        _file_name varchar,
        _row_number integer,
        _batch_id varchar
    )
    """,
    """
    create table marts.fct_partner_scorecard (
        partner_id varchar,
        period varchar,
        net_sales decimal(18, 2),
        score decimal(7, 2),
        tier varchar,
        rank integer
    )
    """,
    """
    create table marts.fct_rebate_statement_lines (
        statement_key varchar,
        partner_id varchar,
        period varchar,
        program_id varchar,
        line_no integer,
        basis_amount decimal(18, 2),
        rate decimal(9, 6),
        amount decimal(18, 2)
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
)

GOOD_DATA_SQL = (
    # b1 is an older batch whose first file never reconciled; b2 is the latest.
    """
    insert into ops.load_files values
        ('b1', 'acme', 'order_lines', 'q3_old.csv', 'aa', 5, 3, 1,
            timestamp '2026-10-01 08:00:00'),
        ('b2', 'acme', 'partners', 'partners.csv', 'bb', 3, 3, 0,
            timestamp '2026-10-02 08:00:00'),
        ('b2', 'acme', 'order_lines', 'q3.csv', 'cc', 7, 6, 1,
            timestamp '2026-10-02 08:00:05')
    """,
    """
    insert into ops.quarantine values
        ('b2', 'acme', 'order_lines', 'q3.csv', 8, 'net_amount', '1,2,3',
            'not a number'),
        ('b2', 'acme', 'order_lines', 'q3.csv', 8, 'order_date', '2026-13-01',
            'not a date')
    """,
    """
    insert into raw.partners values
        ('P001', 'Alpha Trading', null, 'east', 'reseller',
            date '2024-01-15', 'active', 'acme', 'partners.csv', 2, 'b2'),
        ('P002', 'Beta Systems', 'P001', 'north', 'distributor',
            date '2025-03-01', 'active', 'acme', 'partners.csv', 3, 'b2'),
        ('P003', 'Gamma Retail', null, 'south', 'reseller',
            date '2026-09-01', 'active', 'acme', 'partners.csv', 4, 'b2')
    """,
    # L0 is used twice, in June and in October (with an unknown partner):
    # both rows lie outside 2026Q3, so neither may block it.
    """
    insert into raw.order_lines values
        ('L0', 'O0', 'P001', date '2026-06-30', 'SKU1', 'hardware', 1.000,
            100.0000, 100.00, 'CNY', 'sale', 'acme', 'q2.csv', 2, 'b0'),
        ('L1', 'O1', 'P001', date '2026-07-01', 'SKU1', 'hardware', 10.000,
            100.0000, 1000.00, 'CNY', 'sale', 'acme', 'q3.csv', 2, 'b2'),
        ('L2', 'O2', 'P001', date '2026-08-15', 'SKU1', 'hardware', 1.000,
            100.0000, 100.00, 'CNY', 'return', 'acme', 'q3.csv', 3, 'b2'),
        ('L3', 'O3', 'P002', date '2026-09-30', 'SKU2', 'software', 5.000,
            100.0000, 500.00, 'CNY', 'sale', 'acme', 'q3.csv', 4, 'b2'),
        ('L4', 'O3', 'P002', date '2026-09-30', 'SKU2', 'software', 1.000,
            5.0000, 5.00, 'CNY', 'rebate_credit', 'acme', 'q3.csv', 5, 'b2'),
        ('L0', 'O9', 'P999', date '2026-10-01', 'SKU1', 'hardware', 1.000,
            100.0000, 100.00, 'CNY', 'sale', 'acme', 'q4.csv', 2, 'b3')
    """,
    # P003 joined late and sold nothing, so it needs no statement.
    """
    insert into marts.fct_partner_scorecard values
        ('P001', '2026Q2', 100.00, 40.00, 'bronze', 2),
        ('P001', '2026Q3', 900.00, 80.50, 'gold', 1),
        ('P002', '2026Q3', 500.00, 61.25, 'silver', 2),
        ('P003', '2026Q3', 0.00, null, 'none', 3)
    """,
    """
    insert into marts.fct_rebate_statement_lines values
        ('P001-2026Q3', 'P001', '2026Q3', 'GROWTH', 1, 900.00, 0.030000, 27.00),
        ('P001-2026Q3', 'P001', '2026Q3', 'LOYALTY', 2, 900.00, 0.010000, 9.00),
        ('P002-2026Q3', 'P002', '2026Q3', 'GROWTH', 1, 500.00, 0.020000, 10.00)
    """,
    """
    insert into marts.fct_rebate_statements values
        ('P001-2026Q3', 'P001', '2026Q3', 'CNY', 900.00, 2, 36.00),
        ('P002-2026Q3', 'P002', '2026Q3', 'CNY', 500.00, 1, 10.00)
    """,
)

_IN_PERIOD = "order_date >= date '2026-07-01' and order_date < date '2026-10-01'"

# check name -> SQL that makes exactly that check fail on the good data.
BREAKAGES: dict[str, tuple[str, ...]] = {
    "order_lines_present_in_period": (
        f"delete from raw.order_lines where {_IN_PERIOD}",
    ),
    "order_lines_order_line_id_unique": (
        "update raw.order_lines set order_line_id = 'L1' where order_line_id = 'L2'",
    ),
    "order_lines_order_line_id_not_null": (
        "update raw.order_lines set order_line_id = null where order_line_id = 'L2'",
    ),
    "order_lines_partner_id_not_null": (
        "update raw.order_lines set partner_id = null where order_line_id = 'L3'",
    ),
    "order_lines_partner_known": (
        "update raw.order_lines set partner_id = 'P404' where order_line_id = 'L3'",
    ),
    "order_lines_net_amount_not_null": (
        "update raw.order_lines set net_amount = null where order_line_id = 'L2'",
    ),
    "order_lines_net_amount_not_negative": (
        "update raw.order_lines set net_amount = -100.00 where order_line_id = 'L2'",
    ),
    "order_lines_line_type_known": (
        "update raw.order_lines set line_type = 'credit' where order_line_id = 'L4'",
    ),
    "load_files_latest_batch_reconciles": (
        "update ops.load_files set rows_quarantined = 0 "
        "where batch_id = 'b2' and file_name = 'q3.csv'",
    ),
    "partner_scorecard_present_in_period": (
        "delete from marts.fct_partner_scorecard where period = '2026Q3'",
    ),
    "partner_scorecard_partner_period_unique": (
        "insert into marts.fct_partner_scorecard "
        "values ('P002', '2026Q3', 500.00, 61.25, 'silver', 2)",
    ),
    "rebate_statements_statement_key_unique": (
        "insert into marts.fct_rebate_statements "
        "values ('P002-2026Q3', 'P002', '2026Q3', 'CNY', 500.00, 1, 10.00)",
    ),
    "rebate_statements_statement_key_not_null": (
        "insert into marts.fct_rebate_statements "
        "values (null, 'P003', '2026Q3', 'CNY', 0.00, 0, 0.00)",
    ),
    "rebate_statements_total_matches_lines": (
        "update marts.fct_rebate_statements set total_amount = 36.01 "
        "where statement_key = 'P001-2026Q3'",
    ),
    "rebate_statements_cover_partners_with_sales": (
        "delete from marts.fct_rebate_statement_lines "
        "where statement_key = 'P002-2026Q3'",
        "delete from marts.fct_rebate_statements where statement_key = 'P002-2026Q3'",
    ),
    "rebate_statements_rate_within_ceiling": (
        "update marts.fct_rebate_statement_lines set amount = 60.00 "
        "where statement_key = 'P002-2026Q3'",
        "update marts.fct_rebate_statements set total_amount = 60.00 "
        "where statement_key = 'P002-2026Q3'",
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

"""Northwind's float prices: why channelops states one rounding rule.

Northwind stores unit_price and discount as REAL; its dump writes them with
float noise (9.80000019). The same order lines then give three different
"net sales" depending on where and how rounding happens (SOURCE.txt beside
the data). channelops rounds each line once, half away from zero, to the fen
(a mapping's `rounding: half_up`), and sums the rounded lines; the test
checks that rule on the real dump, in Python's Decimal and in DuckDB's
DECIMAL arithmetic, and that going through binary floats does not agree.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

import duckdb
import pytest

from tests.conftest import SHARED_DATA

NORTHWIND = SHARED_DATA / "northwind" / "northwind.sql"
ROW = re.compile(
    r"INSERT INTO order_details VALUES \((\d+), (\d+), ([0-9.]+), (\d+), ([0-9.]+)\);"
)
FEN = Decimal("0.01")


@pytest.fixture(scope="module")
def order_lines() -> list[tuple[str, str, str]]:
    """(unit_price, quantity, discount) exactly as the dump writes them."""
    rows = [m.groups()[2:] for m in ROW.finditer(NORTHWIND.read_text("utf-8"))]
    assert len(rows) == 2155
    return rows


def net(line: tuple[str, str, str]) -> Decimal:
    price, quantity, discount = (Decimal(v) for v in line)
    return price * quantity * (1 - discount)


def test_the_three_roundings_give_three_totals(
    order_lines: list[tuple[str, str, str]],
) -> None:
    exact = sum((net(line) for line in order_lines), Decimal(0))

    assert exact.quantize(FEN, ROUND_HALF_UP) == Decimal("1265793.04")
    assert sum(
        (net(line).quantize(FEN, ROUND_HALF_UP) for line in order_lines), Decimal(0)
    ) == Decimal("1265792.95")
    assert sum(
        (net(line).quantize(FEN, ROUND_HALF_EVEN) for line in order_lines),
        Decimal(0),
    ) == Decimal("1265792.93")


def test_decimal_sql_rounds_each_line_half_up_like_the_stated_rule(
    order_lines: list[tuple[str, str, str]],
) -> None:
    connection = duckdb.connect()
    connection.execute(
        "create table order_details (unit_price varchar, quantity integer, "
        "discount varchar)"
    )
    connection.executemany("insert into order_details values (?, ?, ?)", order_lines)

    [(per_line, once, through_floats)] = connection.execute(
        """
        select
            sum(round(
                cast(unit_price as decimal(18, 10)) * quantity
                * (1 - cast(discount as decimal(18, 12))), 2
            )),
            round(sum(
                cast(unit_price as decimal(18, 10)) * quantity
                * (1 - cast(discount as decimal(18, 12)))
            ), 2),
            sum(round(
                cast(unit_price as real) * quantity
                * (1 - cast(discount as real)), 2
            ))
        from order_details
        """
    ).fetchall()

    assert per_line == Decimal("1265792.95")
    assert once == Decimal("1265793.04")
    # REAL arithmetic lands on the other side of some half-fen boundaries.
    assert Decimal(str(through_floats)).quantize(FEN) != per_line

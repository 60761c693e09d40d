"""Finance's monthly rebate accrual report, from ``marts.fct_rebate_accruals``.

The mart holds, per partner, program version and month, the liability
accrued at the tier the run-rate projects and, in an accumulation period's
last month, the true-up to the settled entitlement (docs/rebates.md). This
module reads one month of it as a summary per program and line kind and as
a CSV of every line that finance can open in Excel (UTF-8 with BOM, amounts
as exact text). It reads what the last build left; it computes nothing.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from channelops.errors import ChannelopsError
from channelops.periods import Month
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)

# The columns of the CSV, in the mart's words; amounts keep their two places.
COLUMNS = (
    "month_label",
    "partner_id",
    "program_key",
    "line_kind",
    "accumulation_period",
    "months_elapsed",
    "months_in_period",
    "basis_to_date",
    "projected_volume",
    "tier_name",
    "rate",
    "is_eligible",
    "is_capped",
    "projected_entitlement_amount",
    "accrued_to_date_amount",
    "previously_accrued_amount",
    "settled_entitlement_amount",
    "amount",
)


class AccrualsMissing(ChannelopsError):
    """The warehouse has no accrual for the month asked for."""


@dataclass(frozen=True)
class AccrualTotal:
    """One program's accrual or true-up for the month, over its partners."""

    program_key: str
    line_kind: str
    partner_count: int
    amount: Decimal


@dataclass(frozen=True)
class AccrualReport:
    month: Month
    totals: tuple[AccrualTotal, ...]
    lines: tuple[dict[str, Any], ...]

    @property
    def amount(self) -> Decimal:
        return sum((total.amount for total in self.totals), Decimal("0.00"))


def accrual_report(warehouse: Warehouse, month: Month) -> AccrualReport:
    """The month's accrual lines and their totals per program and line kind."""
    lines = warehouse.query_dicts(
        f"select {', '.join(COLUMNS)} from marts.fct_rebate_accruals "
        "where month_label = ? order by program_key, partner_id, line_kind",
        (month.label,),
    )
    if not lines:
        raise AccrualsMissing(
            f"no rebate accruals for {month.label} in the warehouse: the month "
            "has no order lines yet, or no run has built it since; run "
            "`channelops nightly` (or let the nightly deployment run), then ask again"
        )
    totals: dict[tuple[str, str], tuple[set[str], Decimal]] = {}
    for line in lines:
        key = (line["program_key"], line["line_kind"])
        partners, amount = totals.get(key, (set(), Decimal("0.00")))
        partners.add(line["partner_id"])
        totals[key] = (partners, amount + line["amount"])
    return AccrualReport(
        month=month,
        totals=tuple(
            AccrualTotal(program, kind, len(partners), amount)
            for (program, kind), (partners, amount) in sorted(totals.items())
        ),
        lines=tuple(lines),
    )


def write_accrual_csv(report: AccrualReport, path: Path, currency: str) -> Path:
    """Every line of the report as CSV, UTF-8 with BOM so Excel shows Chinese."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for line in report.lines:
            writer.writerow([_cell(line[column]) for column in COLUMNS])
    logger.info(
        "Wrote the %s rebate accruals: %d line(s), %s %s, to %s",
        report.month.label,
        len(report.lines),
        report.amount,
        currency,
        path,
    )
    return path


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

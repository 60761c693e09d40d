"""What a gate check is: the rows it reads, how bad a failure is, how GX decides.

A ``Check`` names the batch of rows it reads (a table, whole or cut to a
period), its severity (``block`` stops publication; ``warn`` holds statements
and partner mail unless an operator overrides it with a reason), the sentence
the ops alert shows, what the operator does when it fails, and the Great
Expectations expectation that decides it. A ``Suite`` groups the checks that
guard one raw input or one published mart. ``Scope`` carries what every
suite is declared for: the quarter (and, for a monthly scorecard run, the
month), the date windows compared, the settlement currency and the
thresholds of ``gate.yml``.

SQL checks must return no rows and run unchanged on DuckDB and PostgreSQL:
lower-case, explicit ``decimal(p,s)``, ``date 'YYYY-MM-DD'`` literals, no
date formatting functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from great_expectations.expectations.core.unexpected_rows_expectation import (
    UnexpectedRowsExpectation,
)
from great_expectations.expectations.expectation import Expectation
from great_expectations.expectations.metadata_types import FailureSeverity

from channelops.periods import Month, Quarter
from expectations.config import GateConfig

_NAME_PATTERN = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_JOIN_PATTERN = re.compile(r"\bjoin\b", re.IGNORECASE)
_BATCH_ALIAS_PATTERN = re.compile(r"\{batch\}\s+as\s+\w+", re.IGNORECASE)


class Severity(StrEnum):
    """What a failed check does to publication."""

    BLOCK = "block"
    WARN = "warn"


_GX_SEVERITY = {
    Severity.BLOCK: FailureSeverity.CRITICAL,
    Severity.WARN: FailureSeverity.WARNING,
}


@dataclass(frozen=True)
class Window:
    """A span of days, end exclusive, as SQL conditions on one date column."""

    first_day: date
    end_day: date

    def condition(self, column: str) -> str:
        """SQL that keeps the rows whose ``column`` lies in the window."""
        return (
            f"{column} >= date '{self.first_day.isoformat()}' "
            f"and {column} < date '{self.end_day.isoformat()}'"
        )

    def __str__(self) -> str:
        last_day = self.end_day - timedelta(days=1)
        return f"{self.first_day.isoformat()} to {last_day.isoformat()}"


@dataclass(frozen=True)
class Scope:
    """What the gate's suites are declared for: one quarter on one warehouse.

    ``as_of`` cuts an open quarter (the nightly run) at that day, and the
    previous quarter is compared over as many days; a settlement leaves it
    out and compares whole quarters. ``today`` is the run's date, after
    which no row may be dated. ``month`` is set for a monthly scorecard run
    (``Scope.for_month``): its gate checks the inputs up to the month's end
    and the month's scorecards instead of the quarter's marts.
    """

    period: Quarter
    currency: str
    today: date
    config: GateConfig = GateConfig()
    as_of: date | None = None
    month: Month | None = None

    def __post_init__(self) -> None:
        if self.month is not None and self.month.quarter != self.period:
            raise ValueError(
                f"gate scope: expected a month of {self.period.label}, received "
                f"{self.month.label!r}; build the scope with Scope.for_month"
            )

    @classmethod
    def for_month(
        cls, month: Month, currency: str, today: date, config: GateConfig | None = None
    ) -> Scope:
        """A monthly scorecard run's scope: its quarter cut at the month's end."""
        config = GateConfig() if config is None else config
        return cls(month.quarter, currency, today, config, month.last_day, month)

    @property
    def label(self) -> str:
        """The quarter's label, e.g. ``2026Q3``."""
        return self.period.label

    @property
    def run_label(self) -> str:
        """What the run gates: the month (``2026-09``) if set, else the quarter."""
        return self.period.label if self.month is None else self.month.label

    @property
    def quarter(self) -> Window:
        """Every day of the quarter."""
        return Window(self.period.first_day, self.period.next().first_day)

    @property
    def window(self) -> Window:
        """The quarter's days that have data: cut at ``as_of`` when it is open."""
        end = self.period.next().first_day
        if self.as_of is not None:
            end = min(end, self.as_of + timedelta(days=1))
        return Window(self.period.first_day, max(end, self.period.first_day))

    @property
    def previous_window(self) -> Window:
        """The previous quarter, over as many days as ``window`` covers."""
        previous = self.period.previous()
        if self.window == self.quarter:
            return Window(previous.first_day, self.period.first_day)
        days = self.window.end_day - self.window.first_day
        end = min(previous.first_day + days, self.period.first_day)
        return Window(previous.first_day, end)

    @property
    def latest_date(self) -> date:
        """The last day a row may be dated: the run date plus the tolerance."""
        return self.today + timedelta(days=self.config.future_days)


@dataclass(frozen=True)
class Batch:
    """The rows a group of checks reads: one table, whole or cut by a condition."""

    table: str
    # Names the cut in GX asset names and Data Docs: "all", "period", ...
    label: str = "all"
    condition: str | None = None
    # Columns that identify a failing row in the ops alert.
    key_columns: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        """The SQL that selects the batch."""
        if self.condition is None:
            return f"select * from {self.table}"
        return f"select * from {self.table} where {self.condition}"


@dataclass(frozen=True)
class Check:
    """One gate check: what it guards, how bad a failure is, how GX decides it."""

    name: str
    batch: Batch
    severity: Severity
    description: str
    remedy: str
    expectation: type[Expectation]
    arguments: Mapping[str, Any] = field(default_factory=dict)
    # A table that may legitimately not exist yet; without it the check
    # has nothing to verify and passes, saying so.
    requires_table: str | None = None
    # A second such table (a reconciliation between two of them).
    also_requires: str | None = None

    @property
    def required_tables(self) -> tuple[str, ...]:
        return tuple(t for t in (self.requires_table, self.also_requires) if t)

    def __post_init__(self) -> None:
        if _NAME_PATTERN.fullmatch(self.name) is None:
            raise ValueError(
                f"check name {self.name!r} is not snake_case: expected lower-case "
                "words joined by '_'; rename the check"
            )
        for text, what in ((self.description, "description"), (self.remedy, "remedy")):
            if not text.endswith("."):
                raise ValueError(
                    f"check {self.name!r}: its {what} should be a sentence ending "
                    f"in '.', received {text!r}"
                )
        if self.is_sql:
            _require_batch_join(self.name, str(self.arguments["unexpected_rows_query"]))

    @property
    def table(self) -> str:
        """The table this check reads."""
        return self.batch.table

    @property
    def is_sql(self) -> bool:
        """Whether the check is SQL that must return no rows."""
        return issubclass(self.expectation, UnexpectedRowsExpectation)

    def build_expectation(self) -> Expectation:
        """A fresh GX expectation carrying this check's name and description."""
        return self.expectation(
            **self.arguments,
            description=self.description,
            severity=_GX_SEVERITY[self.severity],
            meta={"check": self.name, "table": self.table, "remedy": self.remedy},
        )


@dataclass(frozen=True)
class Suite:
    """The checks guarding one raw input or one published mart."""

    name: str
    kind: str
    guards: str
    checks: tuple[Check, ...]

    def __post_init__(self) -> None:
        if _NAME_PATTERN.fullmatch(self.name) is None:
            raise ValueError(
                f"suite name {self.name!r} is not snake_case; rename the suite"
            )


def sql_check(
    name: str,
    batch: Batch,
    severity: Severity,
    description: str,
    remedy: str,
    query: str,
    *,
    requires_table: str | None = None,
    also_requires: str | None = None,
) -> Check:
    """A check whose SQL returns the rows that break the rule."""
    return Check(
        name=name,
        batch=batch,
        severity=severity,
        description=description,
        remedy=remedy,
        expectation=UnexpectedRowsExpectation,
        arguments={"unexpected_rows_query": query},
        requires_table=requires_table,
        also_requires=also_requires,
    )


def sql_decimal(value: Decimal, precision: int, scale: int) -> str:
    """A decimal literal the same on DuckDB and PostgreSQL."""
    return f"cast('{value:f}' as decimal({precision}, {scale}))"


def sql_text(value: str) -> str:
    """A quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _require_batch_join(name: str, query: str) -> None:
    # GX writes {batch} as "(select ...)" when the query contains JOIN and as
    # "(select ...) AS subselect" otherwise. Every check query joins and
    # names the batch itself, so the alias it uses is always its own.
    has_alias = _BATCH_ALIAS_PATTERN.search(query) is not None
    if not has_alias or _JOIN_PATTERN.search(query) is None:
        raise ValueError(
            f"check {name!r}: expected SQL that reads '{{batch}} as <alias>' and "
            f"joins another relation, received {query!r}; name the batch with an "
            "alias and join (a one-row 'cross join' of parameters will do)"
        )

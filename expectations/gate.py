"""The data-quality gate: run the checks for a quarter and say whether to publish.

Runs in the pipeline after the dbt build and before anything is published,
against the DuckDB warehouse (local) or PostgreSQL (prod), with a throwaway
in-memory Great Expectations context. It fails closed: publication is allowed
only when every blocking check ran and passed; a check that raised or gave no
result counts as failed. Given ``data_docs_dir`` it also writes a GX Data Docs
site there, but a site that cannot be built never changes the verdict.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.expectation_validation_result import (
    ExpectationValidationResult,
)
from great_expectations.core.result_format import ResultFormat
from great_expectations.data_context.data_context.abstract_data_context import (
    AbstractDataContext,
)
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.datasource.fluent.sql_datasource import (
    QueryAsset,
    SQLDatasource,
)
from great_expectations.expectations.core.expect_table_row_count_to_be_between import (
    ExpectTableRowCountToBeBetween,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from expectations.gx_duckdb import enable_duckdb_persisted_connection
from expectations.suites import (
    DEFAULT_RATE_CEILING,
    Batch,
    Check,
    Severity,
    gate_checks,
)

logger = logging.getLogger(__name__)

# Enough failing rows for ops to see the pattern; Data Docs hold the rest.
MAX_SAMPLE_ROWS = 5
# An error longer than this is cut in the report; the log has it whole.
MAX_ERROR_CHARS = 500

_DUCKDB = "duckdb"
_POSTGRESQL = "postgresql"

_DATASOURCE_NAME = "warehouse"
_DATA_DOCS_SITE = "gate"
_NOT_EVALUATED = "not evaluated"
# SQLAlchemy appends the statement and a help link to driver errors.
_ERROR_NOISE = re.compile(r"\n\[SQL: .*|\(Background on this error at: [^)]*\)", re.S)


@dataclass(frozen=True)
class CheckResult:
    """What one check found. ``success`` is None when it could not be evaluated."""

    name: str
    table: str
    severity: Severity
    success: bool | None
    observed: str
    sample_rows: tuple[str, ...] = ()
    error: str | None = None
    description: str = ""

    @property
    def status(self) -> str:
        """``pass``, ``fail`` or ``error``."""
        if self.success is None:
            return "error"
        return "pass" if self.success else "fail"


@dataclass(frozen=True)
class GateReport:
    """The gate's verdict for one quarter and every check behind it."""

    passed: bool
    checks: tuple[CheckResult, ...]
    period: str
    data_docs_index: Path | None = None

    @property
    def blocking_failures(self) -> tuple[CheckResult, ...]:
        """Blocking checks that failed or could not be evaluated."""
        return tuple(
            check
            for check in self.checks
            if check.severity is Severity.BLOCK and check.success is not True
        )

    @property
    def warnings(self) -> tuple[CheckResult, ...]:
        """Warning checks that failed or could not be evaluated."""
        return tuple(
            check
            for check in self.checks
            if check.severity is Severity.WARN and check.success is not True
        )

    def summary_markdown(self) -> str:
        """The verdict as Markdown, for a Prefect artifact or the ops e-mail."""
        lines = [
            f"## Data-quality gate {self.period}: {_headline(self)}",
            "",
            _counts_sentence(self),
            "",
            "| Result | Check | Table | Severity | Observed |",
            "| --- | --- | --- | --- | --- |",
            *(_table_row(check) for check in self.checks),
        ]
        lines += _details_section("Blocking failures", self.blocking_failures)
        lines += _details_section("Warnings", self.warnings)
        if self.data_docs_index is not None:
            lines += ["", f"Data Docs: `{self.data_docs_index}`"]
        return "\n".join(lines) + "\n"


def run_gate(
    connection_string: str,
    *,
    period: str,
    data_docs_dir: Path | None = None,
    rate_ceiling: Decimal = DEFAULT_RATE_CEILING,
) -> GateReport:
    """Run every gate check for ``period`` on the warehouse and return the verdict.

    ``connection_string`` is ``duckdb:///<absolute path>`` or
    ``postgresql+psycopg2://...``. Every SQLAlchemy engine GX opened is
    disposed before this returns, so the caller can open the DuckDB file
    read-write straight after.
    """
    checks = gate_checks(period, rate_ceiling=rate_ceiling)
    backend = _warehouse_backend(connection_string)
    started = time.monotonic()
    missing = _missing_warehouse(connection_string, backend)
    if missing is not None:
        logger.error("gate %s cannot run: %s", period, missing)
        results = tuple(_not_evaluated(check, missing) for check in checks)
        data_docs_index = None
    else:
        results, data_docs_index = _run_checks(
            connection_string, backend, checks, data_docs_dir
        )
    report = GateReport(
        passed=_verdict(results),
        checks=results,
        period=period,
        data_docs_index=data_docs_index,
    )
    _log_report(report, backend, time.monotonic() - started)
    return report


def _warehouse_backend(connection_string: str) -> str:
    try:
        backend = make_url(connection_string).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in (_DUCKDB, _POSTGRESQL):
        raise ValueError(
            "gate connection string: expected 'duckdb:///<absolute path>' or "
            "'postgresql+psycopg2://user@host:port/database', received a "
            f"{backend or 'unparseable'!r} URL; pass the warehouse settings' "
            "connection string"
        )
    return backend


def _missing_warehouse(connection_string: str, backend: str) -> str | None:
    # DuckDB would silently create an empty file; say what is missing instead.
    if backend != _DUCKDB:
        return None
    database = make_url(connection_string).database or ""
    if database == ":memory:" or Path(database).is_file():
        return None
    return (
        f"DuckDB warehouse file {database!r} does not exist; run the pull and "
        "dbt stages first, or pass the path of the built warehouse"
    )


def _run_checks(
    connection_string: str,
    backend: str,
    checks: tuple[Check, ...],
    data_docs_dir: Path | None,
) -> tuple[tuple[CheckResult, ...], Path | None]:
    context = _ephemeral_context(data_docs_dir)
    datasource: SQLDatasource | None = None
    try:
        datasource = _add_datasource(context, connection_string, backend)
        results = _validate_all(context, datasource, checks)
    except Exception as error:  # fail closed: whatever broke, nothing passed
        logger.exception("gate could not run on the %s warehouse", backend)
        results = tuple(_not_evaluated(check, error) for check in checks)
    finally:
        if datasource is not None:
            _dispose_engines(datasource)
    if data_docs_dir is None:
        return results, None
    return results, _build_data_docs(context, data_docs_dir)


def _ephemeral_context(data_docs_dir: Path | None) -> AbstractDataContext:
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    if data_docs_dir is not None:
        context.add_data_docs_site(
            site_name=_DATA_DOCS_SITE,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir.resolve()),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


def _add_datasource(
    context: AbstractDataContext, connection_string: str, backend: str
) -> SQLDatasource:
    if backend == _DUCKDB:
        enable_duckdb_persisted_connection()
        return context.data_sources.add_sql(
            name=_DATASOURCE_NAME, connection_string=connection_string
        )
    return context.data_sources.add_postgres(
        name=_DATASOURCE_NAME, connection_string=connection_string
    )


def _validate_all(
    context: AbstractDataContext, datasource: SQLDatasource, checks: tuple[Check, ...]
) -> tuple[CheckResult, ...]:
    by_name: dict[str, CheckResult] = {}
    for batch, is_sql, group in _groups(checks):
        for result in _validate_group(context, datasource, batch, is_sql, group):
            by_name[result.name] = result
    return tuple(by_name[check.name] for check in checks)


def _groups(
    checks: Iterable[Check],
) -> list[tuple[Batch, bool, tuple[Check, ...]]]:
    # One GX validation per batch and kind: SQL checks need the COMPLETE
    # result format to return their rows, which column checks must not use
    # (it would return every failing value).
    grouped: dict[tuple[Batch, bool], list[Check]] = {}
    for check in checks:
        grouped.setdefault((check.batch, check.is_sql), []).append(check)
    return [(batch, is_sql, tuple(group)) for (batch, is_sql), group in grouped.items()]


def _validate_group(
    context: AbstractDataContext,
    datasource: SQLDatasource,
    batch: Batch,
    is_sql: bool,
    checks: tuple[Check, ...],
) -> tuple[CheckResult, ...]:
    name = f"{batch.table}.{'sql' if is_sql else 'columns'}"
    try:
        suite_result = _run_validation(context, datasource, name, batch, is_sql, checks)
    except Exception as error:  # fail closed for this group, keep the others
        logger.warning("gate checks %s could not run: %s", name, error)
        return tuple(_not_evaluated(check, error) for check in checks)
    by_check = {
        result.expectation_config.meta.get("check"): result
        for result in suite_result.results
        if result.expectation_config is not None
        and result.expectation_config.meta is not None
    }
    return tuple(_check_result(check, by_check.get(check.name)) for check in checks)


def _run_validation(
    context: AbstractDataContext,
    datasource: SQLDatasource,
    name: str,
    batch: Batch,
    is_sql: bool,
    checks: tuple[Check, ...],
) -> ExpectationSuiteValidationResult:
    asset = _add_asset(datasource, name, batch)
    batch_definition = asset.add_batch_definition_whole_table(name)
    suite = context.suites.add(
        gx.ExpectationSuite(
            name=name, expectations=[check.build_expectation() for check in checks]
        )
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=suite)
    )
    return validation.run(result_format=_result_format(batch, is_sql))


def _add_asset(datasource: SQLDatasource, name: str, batch: Batch) -> QueryAsset:
    # A query asset even for a whole table: GX deprecated the schema_name a
    # table asset would need (1.14), and the schema lives in the query here.
    return datasource.add_query_asset(name=name, query=batch.query)


def _result_format(batch: Batch, is_sql: bool) -> dict[str, Any]:
    if is_sql:
        return {"result_format": ResultFormat.COMPLETE}
    result_format: dict[str, Any] = {
        "result_format": ResultFormat.SUMMARY,
        "partial_unexpected_count": MAX_SAMPLE_ROWS,
        "return_unexpected_index_query": False,
    }
    if batch.key_columns:
        result_format["unexpected_index_column_names"] = list(batch.key_columns)
    return result_format


def _check_result(
    check: Check, result: ExpectationValidationResult | None
) -> CheckResult:
    if result is None or result.success is None:
        return _not_evaluated(check, "Great Expectations returned no result")
    error = _raised(result.exception_info or {})
    if error is not None:
        logger.warning("gate check %s raised: %s", check.name, error)
        return _not_evaluated(check, error)
    details: Mapping[str, Any] = result.result or {}
    success = result.success
    return CheckResult(
        name=check.name,
        table=check.table,
        severity=check.severity,
        success=success,
        observed=_observed(check, details),
        sample_rows=() if success else _sample_rows(check, details),
        description=check.description,
    )


def _not_evaluated(check: Check, error: object) -> CheckResult:
    return CheckResult(
        name=check.name,
        table=check.table,
        severity=check.severity,
        success=None,
        observed=_NOT_EVALUATED,
        error=_error_text(error),
        description=check.description,
    )


def _raised(exception_info: Mapping[str, Any]) -> str | None:
    # GX reports one exception for the expectation, or one per failed metric.
    if exception_info.get("raised_exception"):
        return str(exception_info.get("exception_message"))
    messages = {
        str(info.get("exception_message"))
        for info in exception_info.values()
        if isinstance(info, Mapping) and info.get("raised_exception")
    }
    return "; ".join(sorted(messages)) or None


def _error_text(error: object) -> str:
    text = _ERROR_NOISE.sub("", str(error or "unknown error"))
    text = " ".join(text.split())
    if len(text) > MAX_ERROR_CHARS:
        return text[: MAX_ERROR_CHARS - 1] + "…"
    return text


def _observed(check: Check, details: Mapping[str, Any]) -> str:
    if check.is_sql:
        return _count_phrase(details.get("observed_value"), "failing row")
    if check.expectation is ExpectTableRowCountToBeBetween:
        return _count_phrase(details.get("observed_value"), "row")
    unexpected = details.get("unexpected_count")
    total = details.get("element_count")
    return f"{unexpected} of {_count_phrase(total, 'row')} fail"


def _count_phrase(count: object, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _sample_rows(check: Check, details: Mapping[str, Any]) -> tuple[str, ...]:
    if check.is_sql:
        rows = (details.get("details") or {}).get("unexpected_rows") or []
    else:
        rows = (
            details.get("partial_unexpected_index_list")
            or details.get("partial_unexpected_list")
            or []
        )
    return tuple(_render_row(row) for row in rows[:MAX_SAMPLE_ROWS])


def _render_row(row: object) -> str:
    if isinstance(row, Mapping):
        return ", ".join(f"{key}={_render_value(value)}" for key, value in row.items())
    return _render_value(row)


def _render_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _verdict(results: tuple[CheckResult, ...]) -> bool:
    blocking = [result for result in results if result.severity is Severity.BLOCK]
    return bool(blocking) and all(result.success is True for result in blocking)


def _dispose_engines(datasource: SQLDatasource) -> None:
    # GX keeps two engines per datasource (its own and its execution
    # engine's); DuckDB refuses a new connection while either is open.
    try:
        datasource.get_execution_engine().close()
    except Exception:
        logger.warning("gate could not close GX's execution engine", exc_info=True)
    try:
        datasource.get_engine().dispose()
    except Exception:
        logger.warning("gate could not dispose GX's datasource engine", exc_info=True)


def _build_data_docs(context: AbstractDataContext, data_docs_dir: Path) -> Path | None:
    index = data_docs_dir.resolve() / "index.html"
    try:
        context.build_data_docs(site_names=[_DATA_DOCS_SITE])
    except Exception:  # Data Docs are a courtesy; the verdict stands without them
        logger.warning(
            "gate could not build Data Docs in %s", data_docs_dir, exc_info=True
        )
        return None
    if not index.is_file():
        logger.warning("gate built Data Docs but found no %s", index)
        return None
    logger.info("gate wrote Data Docs to %s", index)
    return index


def _log_report(report: GateReport, backend: str, seconds: float) -> None:
    logger.info(
        "gate %s on %s: %s, %d checks, %d blocking failures, %d warnings, %.1f s",
        report.period,
        backend,
        "passed" if report.passed else "blocked",
        len(report.checks),
        len(report.blocking_failures),
        len(report.warnings),
        seconds,
    )
    for check in (*report.blocking_failures, *report.warnings):
        logger.warning(
            "gate check %s (%s, %s) %s: %s",
            check.name,
            check.table,
            check.severity,
            check.status,
            check.error or check.observed,
        )


def _headline(report: GateReport) -> str:
    if not report.passed:
        return "BLOCKED"
    if report.warnings:
        return "PASSED with warnings"
    return "PASSED"


def _counts_sentence(report: GateReport) -> str:
    passed = sum(check.success is True for check in report.checks)
    return (
        f"{len(report.checks)} checks: {passed} passed, "
        f"{len(report.blocking_failures)} blocking publication, "
        f"{len(report.warnings)} warnings."
    )


def _table_row(check: CheckResult) -> str:
    cells = (
        check.status,
        f"`{check.name}`",
        check.table,
        check.severity.value,
        check.observed,
    )
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _details_section(title: str, checks: tuple[CheckResult, ...]) -> list[str]:
    if not checks:
        return []
    lines = ["", f"### {title}", ""]
    for check in checks:
        lines.append(f"- **{check.name}** ({check.table}): {check.description}")
        lines.append(f"  - Observed: {check.observed}")
        if check.error is not None:
            lines.append(f"  - Error: {check.error}")
        lines += [f"  - Row: {_code(row)}" for row in check.sample_rows]
    return lines


def _code(text: str) -> str:
    return "`" + text.replace("`", "'") + "`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")

"""Run the gate's suites on the warehouse and report what each check found.

Runs in the pipeline after the dbt build and before anything is published,
against the DuckDB warehouse (local) or PostgreSQL (prod), with a throwaway
in-memory Great Expectations context. It fails closed: a check that raised,
gave no result, or belongs to a suite that could not run counts as failed.
Given ``data_docs_dir`` it also writes a GX Data Docs site there (one page
per validation, named by the run id, so earlier runs' pages stay); a site
that cannot be built never changes the verdict.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

import great_expectations as gx
from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.expectation_validation_result import (
    ExpectationValidationResult,
)
from great_expectations.core.result_format import ResultFormat
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.data_context.abstract_data_context import (
    AbstractDataContext,
)
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.datasource.fluent.sql_datasource import SQLDatasource
from great_expectations.expectations.core.expect_table_row_count_to_be_between import (
    ExpectTableRowCountToBeBetween,
)
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from expectations.checks import Batch, Check, Scope, Suite
from expectations.gx_duckdb import enable_duckdb_persisted_connection
from expectations.report import MAX_SAMPLE_ROWS, CheckResult, GateReport
from expectations.suites import all_checks, gate_suites

logger = logging.getLogger(__name__)

# An error longer than this is cut in the report; the log has it whole.
MAX_ERROR_CHARS = 500

_DUCKDB = "duckdb"
_POSTGRESQL = "postgresql"

_DATASOURCE_NAME = "warehouse"
_DATA_DOCS_SITE = "gate"
_NOT_EVALUATED = "not evaluated"
# SQLAlchemy appends the statement and a help link to driver errors.
_ERROR_NOISE = re.compile(r"\n\[SQL: .*|\(Background on this error at: [^)]*\)", re.S)

# One GX validation per suite, batch and kind of check.
_Group = tuple[Suite, Batch, bool, tuple[Check, ...]]


def run_gate(
    connection_string: str,
    scope: Scope,
    *,
    run_id: str,
    data_docs_dir: Path | None = None,
    suites: tuple[Suite, ...] | None = None,
) -> GateReport:
    """Run the gate's suites for ``scope`` on the warehouse; return every result.

    ``connection_string`` is ``duckdb:///<absolute path>`` or
    ``postgresql+psycopg2://...``. ``suites`` defaults to every suite of the
    gate (``expectations.suites.gate_suites``). Every SQLAlchemy engine GX
    opened is disposed before this returns, so the caller can open the
    DuckDB file read-write straight after.
    """
    suites = gate_suites(scope) if suites is None else suites
    backend = _warehouse_backend(connection_string)
    started = time.monotonic()
    missing = _missing_warehouse(connection_string, backend)
    if missing is not None:
        logger.error("gate %s cannot run: %s", scope.run_label, missing)
        results = tuple(
            _not_evaluated(suite, check, missing)
            for suite in suites
            for check in suite.checks
        )
        data_docs_index = None
    else:
        results, data_docs_index = _run_suites(
            connection_string, backend, suites, run_id, data_docs_dir
        )
    report = GateReport(
        period=scope.run_label,
        run_id=run_id,
        checks=results,
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


def _run_suites(
    connection_string: str,
    backend: str,
    suites: tuple[Suite, ...],
    run_id: str,
    data_docs_dir: Path | None,
) -> tuple[tuple[CheckResult, ...], Path | None]:
    context = _ephemeral_context(data_docs_dir)
    datasource: SQLDatasource | None = None
    try:
        datasource = _add_datasource(context, connection_string, backend)
        results = _validate_all(context, datasource, suites, run_id)
    except Exception as error:  # fail closed: whatever broke, nothing passed
        logger.exception("gate could not run on the %s warehouse", backend)
        results = tuple(
            _not_evaluated(suite, check, error)
            for suite in suites
            for check in suite.checks
        )
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
    context: AbstractDataContext,
    datasource: SQLDatasource,
    suites: tuple[Suite, ...],
    run_id: str,
) -> tuple[CheckResult, ...]:
    absent = _absent_tables(datasource, all_checks(suites))
    by_name: dict[str, CheckResult] = {}
    runnable: list[_Group] = []
    for suite, batch, is_sql, group in _groups(suites):
        ready = []
        for check in group:
            missing = [t for t in check.required_tables if t in absent]
            if missing:
                by_name[check.name] = _not_applicable(suite, check, missing[0])
            else:
                ready.append(check)
        if ready:
            runnable.append((suite, batch, is_sql, tuple(ready)))
    gx_run_id = RunIdentifier(run_name=run_id)
    for name, (suite, batch, is_sql, group) in zip(
        _group_names(runnable), runnable, strict=True
    ):
        for result in _validate_group(
            context, datasource, name, suite, batch, is_sql, group, gx_run_id
        ):
            by_name[result.name] = result
    return tuple(by_name[check.name] for suite in suites for check in suite.checks)


def _absent_tables(datasource: SQLDatasource, checks: Iterable[Check]) -> set[str]:
    wanted = {table for check in checks for table in check.required_tables}
    if not wanted:
        return set()
    inspector = inspect(datasource.get_engine())
    absent = set()
    for table in wanted:
        schema, _, name = table.partition(".")
        if not inspector.has_table(name, schema=schema):
            absent.add(table)
    return absent


def _groups(suites: Iterable[Suite]) -> list[_Group]:
    # SQL checks need the COMPLETE result format to return their rows, which
    # column checks must not use (it would return every failing value).
    grouped: dict[tuple[str, Batch, bool], list[Check]] = {}
    by_name = {}
    for suite in suites:
        by_name[suite.name] = suite
        for check in suite.checks:
            key = (suite.name, check.batch, check.is_sql)
            grouped.setdefault(key, []).append(check)
    return [
        (by_name[suite_name], batch, is_sql, tuple(group))
        for (suite_name, batch, is_sql), group in grouped.items()
    ]


def _group_names(groups: Iterable[_Group]) -> list[str]:
    # GX asset, suite and validation names, unique even where two batches
    # of a suite cut the same table the same way for different alerts.
    names: list[str] = []
    for suite, batch, is_sql, _ in groups:
        kind = "sql" if is_sql else "columns"
        name = f"{suite.name}.{batch.table}.{batch.label}.{kind}"
        taken = sum(existing.startswith(name) for existing in names)
        names.append(f"{name}.{taken + 1}" if taken else name)
    return names


def _validate_group(
    context: AbstractDataContext,
    datasource: SQLDatasource,
    name: str,
    suite: Suite,
    batch: Batch,
    is_sql: bool,
    checks: tuple[Check, ...],
    run_id: RunIdentifier,
) -> tuple[CheckResult, ...]:
    try:
        suite_result = _run_validation(
            context, datasource, name, batch, is_sql, checks, run_id
        )
    except Exception as error:  # fail closed for this group, keep the others
        logger.warning("gate checks %s could not run: %s", name, error)
        return tuple(_not_evaluated(suite, check, error) for check in checks)
    by_check = {
        result.expectation_config.meta.get("check"): result
        for result in suite_result.results
        if result.expectation_config is not None
        and result.expectation_config.meta is not None
    }
    return tuple(
        _check_result(suite, check, by_check.get(check.name)) for check in checks
    )


def _run_validation(
    context: AbstractDataContext,
    datasource: SQLDatasource,
    name: str,
    batch: Batch,
    is_sql: bool,
    checks: tuple[Check, ...],
    run_id: RunIdentifier,
) -> ExpectationSuiteValidationResult:
    # A query asset even for a whole table: GX deprecated the schema_name a
    # table asset would need (1.14), and the schema lives in the query here.
    asset = datasource.add_query_asset(name=name, query=batch.query)
    batch_definition = asset.add_batch_definition_whole_table(name)
    gx_suite = context.suites.add(
        gx.ExpectationSuite(
            name=name, expectations=[check.build_expectation() for check in checks]
        )
    )
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(name=name, data=batch_definition, suite=gx_suite)
    )
    return validation.run(result_format=_result_format(batch, is_sql), run_id=run_id)


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
    suite: Suite, check: Check, result: ExpectationValidationResult | None
) -> CheckResult:
    if result is None or result.success is None:
        return _not_evaluated(suite, check, "Great Expectations returned no result")
    error = _raised(result.exception_info or {})
    if error is not None:
        logger.warning("gate check %s raised: %s", check.name, error)
        return _not_evaluated(suite, check, error)
    details: Mapping[str, Any] = result.result or {}
    success = result.success
    return CheckResult(
        name=check.name,
        suite=suite.name,
        table=check.table,
        severity=check.severity,
        success=success,
        observed=_observed(check, details),
        description=check.description,
        remedy=check.remedy,
        sample_rows=() if success else _sample_rows(check, details),
    )


def _not_evaluated(suite: Suite, check: Check, error: object) -> CheckResult:
    return CheckResult(
        name=check.name,
        suite=suite.name,
        table=check.table,
        severity=check.severity,
        success=None,
        observed=_NOT_EVALUATED,
        description=check.description,
        remedy=check.remedy,
        error=_error_text(error),
    )


def _not_applicable(suite: Suite, check: Check, missing: str) -> CheckResult:
    return CheckResult(
        name=check.name,
        suite=suite.name,
        table=check.table,
        severity=check.severity,
        success=True,
        observed=f"nothing to check: {missing} does not exist yet",
        description=check.description,
        remedy=check.remedy,
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
        "gate %s on %s: %s, %d checks in %d suites, %d blocking failures, "
        "%d warnings, %.1f s",
        report.period,
        backend,
        report.headline(),
        len(report.checks),
        len(report.suites),
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

"""What the gate leaves in the warehouse: every run's results and every override.

``ops.gate_results`` keeps one row per check per run, so each run's
validation results stay queryable after the run (Data Docs keep the GX
pages). ``ops.gate_overrides`` keeps each decision to publish despite
warnings: the run, the period, the operator's reason and the warnings it
overrode. Both are keyed by ``run_id``, the id the publication ledger
(``ops.statement_versions``) carries, so a settlement joins to the gate
results and override behind it. Written by the gate task and by
``block_on_gate`` in ``flows.stages``; the same SQL runs on DuckDB and
PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pyarrow as pa

from channelops.warehouse import Warehouse
from expectations.report import GateReport

logger = logging.getLogger(__name__)

# An override reason is a sentence an auditor reads, not an essay.
MAX_REASON_CHARS = 500

RESULTS_DDL = """
create table if not exists ops.gate_results (
    run_id varchar not null,
    period varchar not null,
    suite varchar not null,
    check_name varchar not null,
    checked_table varchar not null,
    severity varchar not null,
    status varchar not null,
    observed varchar not null,
    sample_rows varchar,
    error varchar,
    checked_at timestamp not null
)
"""

OVERRIDES_DDL = """
create table if not exists ops.gate_overrides (
    run_id varchar not null,
    flow varchar not null,
    period varchar not null,
    reason varchar not null,
    warnings varchar not null,
    overridden_at timestamp not null
)
"""


def override_reason(text: str | None) -> str | None:
    """The operator's reason to publish despite warnings, checked; None if unset."""
    if text is None:
        return None
    reason = " ".join(text.split())
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise ValueError(
            "publish_despite_warnings: expected a reason of 1 to "
            f"{MAX_REASON_CHARS} characters saying why the warnings may be "
            f"ignored, received {text!r}; leave the parameter empty to hold "
            "publication instead"
        )
    return reason


def record_results(warehouse: Warehouse, report: GateReport) -> None:
    """Store every check result of the run, replacing an earlier try's."""
    warehouse.execute("create schema if not exists ops")
    warehouse.execute(RESULTS_DDL)
    now = _now()
    checks = report.checks
    with warehouse.transaction():
        warehouse.execute(
            "delete from ops.gate_results where run_id = ? and period = ?",
            (report.run_id, report.period),
        )
        warehouse.insert_arrow(
            "ops.gate_results",
            pa.table(
                {
                    "run_id": [report.run_id] * len(checks),
                    "period": [report.period] * len(checks),
                    "suite": [c.suite for c in checks],
                    "check_name": [c.name for c in checks],
                    "checked_table": [c.table for c in checks],
                    "severity": [c.severity.value for c in checks],
                    "status": [c.status for c in checks],
                    "observed": [c.observed for c in checks],
                    "sample_rows": pa.array(
                        ["\n".join(c.sample_rows) or None for c in checks],
                        type=pa.string(),
                    ),
                    "error": pa.array([c.error for c in checks], type=pa.string()),
                    "checked_at": pa.array(
                        [now] * len(checks), type=pa.timestamp("us")
                    ),
                }
            ),
        )
    logger.info(
        "Recorded %d gate result(s) of run %s for %s in ops.gate_results",
        len(checks),
        report.run_id,
        report.period,
    )


def record_override(
    warehouse: Warehouse, report: GateReport, *, flow: str, reason: str
) -> None:
    """Record that ``flow`` publishes ``report``'s period despite its warnings."""
    warehouse.execute("create schema if not exists ops")
    warehouse.execute(OVERRIDES_DDL)
    warnings = ", ".join(check.name for check in report.warnings)
    with warehouse.transaction():
        warehouse.execute(
            "delete from ops.gate_overrides where run_id = ? and period = ?",
            (report.run_id, report.period),
        )
        warehouse.execute(
            "insert into ops.gate_overrides values (?, ?, ?, ?, ?, ?)",
            (report.run_id, flow, report.period, reason, warnings, _now()),
        )
    logger.info(
        "Recorded override of run %s for %s: publishing despite %s; reason: %s",
        report.run_id,
        report.period,
        warnings,
        reason,
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)

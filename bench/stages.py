"""One channelops stage in a process of its own, for the benchmark to measure.

``python -m bench.stages <stage> [period]`` runs the stage the way the flows
do (same functions, same settings from ``CHANNELOPS_*``), without Prefect's
orchestration, and prints one JSON line: the rows it handled.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any

from channelops.periods import Quarter
from channelops.settings import Settings, load_settings
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)


def pull_stage(settings: Settings, period: Quarter) -> dict[str, Any]:
    from channelops.pull import pull

    with Warehouse(settings) as warehouse:
        report = pull(settings, warehouse, batch_id=f"bench-{_now()}")
    return {
        "rows": report.total("rows_read"),
        "loaded": report.total("rows_loaded"),
        "quarantined": report.total("rows_quarantined"),
        "files": len(report.loaded_files),
    }


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")


def build_stage(settings: Settings, period: Quarter, *extra: str) -> dict[str, Any]:
    from channelops.transform import build_models, load_rules, run_dbt

    with Warehouse(settings) as warehouse:
        load_rules(settings, warehouse)
    if extra:
        completed = run_dbt(settings, "build", *extra)
        if completed.returncode != 0:
            raise SystemExit(completed.stdout[-3000:])
        models = completed.stdout.count(" OK created")
    else:
        models = build_models(settings).models_built
    return {"rows": _order_lines(settings), "models": models}


def full_refresh_stage(settings: Settings, period: Quarter) -> dict[str, Any]:
    return build_stage(settings, period, "--full-refresh")


def _order_lines(settings: Settings) -> int:
    with Warehouse(settings) as warehouse:
        return int(warehouse.query("select count(*) from raw.order_lines")[0][0])


def gate_stage(settings: Settings, period: Quarter) -> dict[str, Any]:
    from channelops.periods import today_in
    from expectations.checks import Scope
    from expectations.config import load_gate_config
    from expectations.gate import run_gate
    from expectations.records import record_results

    scope = Scope(
        period=period,
        currency=settings.currency,
        today=today_in(settings.timezone),
        config=load_gate_config(settings.config_dir),
    )
    report = run_gate(settings.warehouse_url, scope, run_id=f"bench-{_now()}")
    with Warehouse(settings) as warehouse:
        record_results(warehouse, report)
    return {
        "rows": _order_lines(settings),
        "checks": len(report.checks),
        "verdict": report.headline(),
        "blocking": len(report.blocking_failures),
        "warnings": len(report.warnings),
    }


def publish_stage(settings: Settings, period: Quarter) -> dict[str, Any]:
    """Publish the period's statements and queue their e-mails, as a flow does."""
    from channelops.outbox import queue_statements
    from channelops.publish import publish_statements

    with Warehouse(settings) as warehouse:
        report = publish_statements(
            settings, warehouse, period, run_id=f"bench-{_now()}"
        )
        queued = queue_statements(settings, warehouse, report.new_versions)
    return {
        "rows": len(report.statements),
        "new_versions": len(report.new_versions),
        "queued": queued.queued,
        "total_amount": str(report.total_amount),
    }


def render_stage(settings: Settings, period: Quarter) -> dict[str, Any]:
    """Render every pending statement message once, without sending it."""
    from contextlib import closing

    from channelops import outbox
    from channelops.rendering import render_workers, rendered

    with Warehouse(settings) as warehouse:
        rows = warehouse.query_dicts(
            "select message_key, document_path, recipients, message_id, version "
            "from ops.outbox where kind = 'statement' and status = 'pending' "
            "and period = ? order by partner_id",
            (period.label,),
        )
    # The rendering send_pending does as it delivers, workers included.
    workers = render_workers(settings.render_workers, len(rows))
    attachment_bytes = 0
    with closing(rendered(outbox.render_statement_row, rows, workers)) as messages:
        for message in messages:
            attachment_bytes += sum(len(a.content) for a in message.attachments)
    return {
        "rows": len(rows),
        "attachment_bytes": attachment_bytes,
        "render_workers": workers,
    }


def send_stage(settings: Settings, period: Quarter) -> dict[str, Any]:
    from channelops.outbox import send_pending

    with Warehouse(settings) as warehouse:
        report = send_pending(settings, warehouse, period=period.label)
    return {"rows": report.sent, "failed": report.failed}


STAGES: dict[str, Callable[..., dict[str, Any]]] = {
    "pull": pull_stage,
    "dbt build": build_stage,
    "dbt full refresh": full_refresh_stage,
    "gate": gate_stage,
    "publish": publish_stage,
    "render": render_stage,
    "send": send_stage,
}


def main(arguments: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    logging.getLogger("channelops").setLevel(logging.INFO)
    stage, period = arguments[0], Quarter.parse(arguments[1])
    started = time.perf_counter()
    result = STAGES[stage](load_settings(), period)
    # The stage's own work, without the interpreter's start and imports.
    result["work_seconds"] = time.perf_counter() - started
    print("BENCH-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

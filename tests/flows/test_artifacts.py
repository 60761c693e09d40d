"""What runs leave in the Prefect UI, read back through the real Prefect API."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from prefect import flow

from channelops.publish import PublishedStatement, PublishReport
from channelops.settings import load_settings
from channelops.warehouse import Warehouse
from flows.artifacts import publish_artifacts, statements_markdown
from flows.meeting_pack import meeting_pack
from flows.stages import RunSummary
from tests.channelops.test_meeting_pack import publish_quarters, write_marts

PERIOD = "2026Q3"


def artifacts_of(flow_run_id: UUID | str | None) -> dict[str, Any]:
    """A flow run's artifacts by key, as the run's Artifacts tab lists them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    assert flow_run_id is not None
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(str(flow_run_id))])
            )
        )
    return {a.key: a.data for a in found if a.key is not None}


def two_statements() -> PublishReport:
    """P0001 with a new version 2, P0002 unchanged at version 1."""
    return PublishReport(
        PERIOD,
        tuple(
            PublishedStatement(
                statement_key=f"{partner}-{PERIOD}",
                partner_id=partner,
                period=PERIOD,
                version=version,
                content_hash="0" * 64,
                total_amount=Decimal(amount),
                currency="CNY",
                document={},
                is_new=is_new,
            )
            for partner, version, amount, is_new in (
                ("P0001", 2, "1200.50", True),
                ("P0002", 1, "300.00", False),
            )
        ),
    )


def test_statements_published_by_a_run_are_said_to_be_published() -> None:
    text = statements_markdown(two_statements(), load_settings(), dry_run=False)

    assert (
        "2 statement(s), 1 new version(s) published; total rebate **1500.50 CNY**"
        in (text)
    )
    assert "| Partner | Version | New | Total |" in text
    assert "| P0001 | v2 | yes | 1200.50 CNY |" in text


@pytest.mark.parametrize(
    ("dry_run", "held", "said"),
    [
        (False, True, "1 new version(s) HELD by the gate's warnings, not published"),
        (True, False, "1 new version(s) would be published (dry run), not published"),
    ],
    ids=["held", "dry-run"],
)
def test_statements_a_run_did_not_publish_are_never_said_to_be_published(
    dry_run: bool, held: bool, said: str
) -> None:
    text = statements_markdown(
        two_statements(), load_settings(), dry_run=dry_run, held=held
    )

    assert said in text
    assert "| Partner | Version | Would be new | Total |" in text
    assert "version(s) published" not in text


@pytest.mark.parametrize(("dry_run", "held"), [(False, True), (True, False)])
def test_the_summary_of_a_run_that_did_not_publish_says_so(
    dry_run: bool, held: bool
) -> None:
    summary = RunSummary(
        "quarterly_settlement", PERIOD, "run-1", dry_run=dry_run, held=held
    )
    summary.publish = two_statements()

    [line] = [x for x in summary.lines(load_settings()) if x.startswith("Statements:")]

    assert "new version(s) computed, NOT published" in line


def test_the_summary_of_a_publishing_run_does_not_say_not_published() -> None:
    summary = RunSummary("quarterly_settlement", PERIOD, "run-1")
    summary.publish = two_statements()

    assert not any("NOT published" in x for x in summary.lines(load_settings()))


@pytest.mark.prefect
def test_a_run_held_by_the_gate_leaves_a_statements_artifact_saying_so() -> None:
    @flow(name="held settlement for the test")
    def held_settlement() -> None:
        summary = RunSummary("quarterly_settlement", PERIOD, "run-held", held=True)
        summary.publish = two_statements()
        publish_artifacts(summary, load_settings())

    state = held_settlement(return_state=True)

    artifacts = artifacts_of(state.state_details.flow_run_id)
    statements = str(artifacts["quarterly-settlement-statements"])
    assert "HELD by the gate's warnings, not published" in statements
    assert "publish_despite_warnings" in statements
    assert "HELD for the gate's warnings" in str(
        artifacts["quarterly-settlement-summary"]
    )


@pytest.mark.prefect
def test_a_meeting_pack_run_leaves_its_totals_the_e_mail_and_the_lineage_link(
    isolated_settings: Path, mail_server: Path
) -> None:
    settings = load_settings()
    publish_quarters(settings)
    with Warehouse(settings) as warehouse:
        warehouse.execute("create schema ops")
        write_marts(warehouse)
    # The dbt docs as the last build generated them.
    settings.dbt_docs_dir.mkdir(parents=True)
    (settings.dbt_docs_dir / "index.html").write_text("<html></html>")

    summary = meeting_pack(period=PERIOD)

    artifacts = artifacts_of(summary.run_id)
    assert set(artifacts) == {
        "meeting-pack-summary",
        "meeting-pack-totals",
        "meeting-pack-messages",
        "dbt-docs",
    }
    totals = str(artifacts["meeting-pack-totals"])
    assert "3 partner(s), total rebate **7420.00 CNY**" in totals
    assert "| 季度返利 (RB-Q) | 3 | 7420.00 CNY |" in totals
    assert ".xlsx" in totals and ".pdf" in totals
    [row] = json.loads(str(artifacts["meeting-pack-messages"]))
    assert (row["to"], row["queued"], row["sent"], row["failed"]) == (
        settings.ops_email,
        1,
        1,
        0,
    )
    assert (settings.dbt_docs_dir / "index.html").resolve().as_uri() in str(
        artifacts["dbt-docs"]
    )

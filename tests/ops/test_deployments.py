"""The deployed flows, started the way the Prefect UI's Run button starts them.

The UI's Run button asks the server to create a flow run from the
deployment with the form's parameters; ``run_deployment`` makes the same
request, and the stack's worker picks the run up as it would any other.
"""

from __future__ import annotations

import re
import time
import urllib.request
from typing import Any
from uuid import UUID

import pytest
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.deployments import run_deployment
from prefect.exceptions import PrefectHTTPStatusError

from channelops.settings import Settings
from channelops.warehouse import Warehouse
from tests.ops.conftest import DEMO_LAST_QUARTER, OpsStack

pytestmark = [pytest.mark.prefect, pytest.mark.postgres]

SETTLEMENT = "quarterly_settlement/quarterly-settlement"
# A worker polls every 10 s and a run re-imports the flows; two runs in a
# row on a busy 2-core machine take minutes.
RUN_SECONDS = 900
POLL_SECONDS = 2.0
# The run's last log lines reach the server shortly after it completed.
LOG_ARRIVAL_SECONDS = 60.0
RERUN_PERIOD = "2026Q2"


def wait_until_final(flow_run_ids: list[UUID]) -> list[FlowRun]:
    deadline = time.monotonic() + RUN_SECONDS
    with get_client(sync_client=True) as client:
        while True:
            runs = [client.read_flow_run(i) for i in flow_run_ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            assert time.monotonic() < deadline, [r.state_name for r in runs]
            time.sleep(POLL_SECONDS)


def artifacts_of(flow_run: FlowRun) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])
            )
        )
    return {a.key: a.data for a in found if a.key is not None}


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return str(response.read().decode("utf-8", errors="replace"))


def stack_settings(stack: OpsStack) -> Settings:
    return Settings(home=stack.home)


@pytest.fixture(scope="module")
def two_triggers_at_once(ops_stack: OpsStack) -> list[FlowRun]:
    """The same quarterly run requested twice at once, both run to the end."""
    with ops_stack.api():
        requested = [
            run_deployment(
                SETTLEMENT, parameters={"period": DEMO_LAST_QUARTER}, timeout=0
            )
            for _ in range(2)
        ]
        return wait_until_final([r.id for r in requested])


def test_two_triggers_of_the_same_quarter_at_once_publish_one_set_of_statements(
    ops_stack: OpsStack, two_triggers_at_once: list[FlowRun]
) -> None:
    assert [r.state_name for r in two_triggers_at_once] == ["Completed"] * 2
    with Warehouse(stack_settings(ops_stack)) as warehouse:
        versions = warehouse.query(
            "select partner_id, count(*), max(version) from ops.statement_versions "
            "where period = ? group by partner_id order by partner_id",
            (DEMO_LAST_QUARTER,),
        )
        sent = warehouse.query(
            "select count(*) from ops.outbox where period = ? and status = 'sent'",
            (DEMO_LAST_QUARTER,),
        )[0][0]
    assert versions, "no statements were published"
    assert {(count, latest) for _, count, latest in versions} == {(1, 1)}
    published = ops_stack.home / "published" / DEMO_LAST_QUARTER
    assert sorted(p.name for p in published.glob("*/*.json")) == ["v1.json"] * len(
        versions
    )
    assert sent == len(list((ops_stack.home / "outbox").glob("*.eml")))
    assert sent == len(versions)
    with ops_stack.api():
        statements = [
            artifacts_of(run)["quarterly-settlement-statements"]
            for run in two_triggers_at_once
        ]
    did_the_work = [f"{len(versions)} new version(s)" in s for s in statements]
    assert sorted(did_the_work) == [False, True]


def test_a_run_started_like_the_run_button_completes_with_its_artifacts(
    ops_stack: OpsStack, two_triggers_at_once: list[FlowRun]
) -> None:
    with Warehouse(stack_settings(ops_stack)) as warehouse:
        partners = [
            row[0]
            for row in warehouse.query(
                "select partner_id from marts.fct_rebate_statements "
                "where period = ? order by partner_id limit 2",
                (RERUN_PERIOD,),
            )
        ]

    with ops_stack.api():
        flow_run = run_deployment(
            SETTLEMENT,
            parameters={"period": RERUN_PERIOD, "partners": partners},
            timeout=RUN_SECONDS,
            poll_interval=POLL_SECONDS,
        )
        artifacts = artifacts_of(flow_run)
        published = f"channelops.publish: Published statements for {RERUN_PERIOD}: 2"
        logs = run_log(flow_run, published)

    assert flow_run.state_name == "Completed", flow_run.state
    assert set(artifacts) >= {
        "quarterly-settlement-summary",
        "quarterly-settlement-rows-by-source",
        f"gate-{RERUN_PERIOD.lower()}",
        "data-docs",
        "quarterly-settlement-statements",
        "quarterly-settlement-messages",
        "dbt-docs",
    }
    statements = artifacts["quarterly-settlement-statements"]
    assert f"## Statements {RERUN_PERIOD}" in statements
    assert [p for p in partners if f"| {p} | v1 | yes |" in statements] == partners
    assert "total rebate **" in statements
    assert '"sent": 2' in artifacts["quarterly-settlement-messages"]
    assert '"rows_quarantined"' in artifacts["quarterly-settlement-rows-by-source"]
    assert "PASSED" in artifacts[f"gate-{RERUN_PERIOD.lower()}"]
    data_docs = f"{ops_stack.docs_url}/data_docs/index.html"
    assert f"]({data_docs})" in artifacts["data-docs"]
    assert "Great Expectations" in fetch(data_docs)
    lineage = artifacts["dbt-docs"]
    assert f"({ops_stack.docs_url}/dbt_docs/index.html)" in lineage
    assert "dbt" in fetch(f"{ops_stack.docs_url}/dbt_docs/index.html")
    assert any(line.startswith(published) for line in logs), logs


def run_log(flow_run: FlowRun, expected: str) -> list[str]:
    """The run's log lines as the UI shows them, each after its logger's name.

    A flow run's process sends its last lines after the run is marked
    completed, so this waits (within bounds) for the ``expected`` line.
    """
    deadline = time.monotonic() + LOG_ARRIVAL_SECONDS
    with get_client(sync_client=True) as client:
        while True:
            found = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
            )
            lines = [f"{entry.name}: {entry.message}" for entry in found]
            if any(line.startswith(expected) for line in lines):
                return lines
            if time.monotonic() > deadline:
                return lines
            time.sleep(POLL_SECONDS)


@pytest.mark.parametrize(
    ("parameters", "reason"),
    [
        ({"period": "2026Q5"}, "'2026Q5' does not match"),
        ({"partners": ["P0001", "P 0002"]}, "field 'partners[1]'"),
        ({"publish_despite_warnings": "  "}, "field 'publish_despite_warnings'"),
        ({"partner": ["P0001"]}, "'partner' was unexpected"),
    ],
)
def test_a_bad_parameter_is_refused_before_a_run_exists(
    ops_stack: OpsStack, parameters: dict[str, Any], reason: str
) -> None:
    with ops_stack.api(), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(SETTLEMENT)
        before = runs_of(client, deployment.id)

        with pytest.raises(PrefectHTTPStatusError) as refused:
            client.create_flow_run_from_deployment(deployment.id, parameters=parameters)

        after = runs_of(client, deployment.id)
    assert refused.value.response.status_code == 409
    assert reason in refused.value.response.json()["detail"]
    assert after == before


def runs_of(client: Any, deployment_id: UUID) -> int:
    return len(
        client.read_flow_runs(
            deployment_filter=DeploymentFilter(
                id=DeploymentFilterId(any_=[deployment_id])
            )
        )
    )


def test_ops_up_again_and_status_say_where_the_running_stack_is(
    ops_stack: OpsStack,
) -> None:
    again = ops_stack.channelops("ops", "up")
    status = ops_stack.channelops("ops", "status")

    assert again.returncode == 0 and "Ops stack up" in again.stdout
    assert ops_stack.api_url in again.stdout
    assert status.returncode == 0, status.stdout
    for process in ("server", "worker", "docs", "api"):
        assert re.search(rf"^\s+{process}\s+up$", status.stdout, re.M), status.stdout

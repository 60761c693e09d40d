"""prefect.yaml: every deployment runs on the work pool, one at a time, typed.

These checks read the file as ``prefect deploy`` does; deploying it for real
is tests/ops/test_ops_stack.py's job.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from prefect.cli.deploy._models import PrefectYamlModel
from prefect.flows import load_flow_from_entrypoint
from prefect.utilities.callables import parameter_schema

from channelops.ops_stack import WORK_POOL
from tests.conftest import REPO

SCHEDULED = {"nightly", "quarterly-settlement", "monthly-scorecards", "meeting-pack"}


def prefect_yaml() -> dict[str, Any]:
    with (REPO / "prefect.yaml").open(encoding="utf-8") as handle:
        loaded: dict[str, Any] = yaml.safe_load(handle)
    return loaded


def deployments() -> list[dict[str, Any]]:
    return list(prefect_yaml()["deployments"])


def test_prefect_yaml_should_be_a_valid_project_file() -> None:
    project = PrefectYamlModel.model_validate(prefect_yaml())

    assert {d.name for d in project.deployments} == {
        "nightly",
        "quarterly-settlement",
        "resend-statement",
        "backfill",
        "monthly-scorecards",
        "meeting-pack",
    }


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: d["name"])
def test_every_deployment_should_run_on_the_pool_one_run_at_a_time(
    deployment: dict[str, Any],
) -> None:
    assert deployment["work_pool"]["name"] == WORK_POOL
    assert deployment["concurrency_limit"] == {
        "limit": 1,
        "collision_strategy": "ENQUEUE",
    }
    assert deployment["enforce_parameter_schema"] is True
    assert deployment["description"].strip()


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: d["name"])
def test_every_entrypoint_should_load_a_flow_with_a_typed_form(
    deployment: dict[str, Any],
) -> None:
    flow = load_flow_from_entrypoint(deployment["entrypoint"])
    schema = parameter_schema(flow).model_dump_for_openapi()

    for name, field in schema["properties"].items():
        where = f"{deployment['name']}.{name}"
        assert field.get("description"), where
        # A type Prefect cannot describe becomes a free-text field: no checks.
        assert {"type", "anyOf", "$ref"} & set(field), where


def test_schedules_should_run_in_beijing_time() -> None:
    scheduled = {d["name"]: d["schedules"] for d in deployments() if "schedules" in d}

    assert set(scheduled) == SCHEDULED
    for schedules in scheduled.values():
        assert [s["timezone"] for s in schedules] == ["Asia/Shanghai"]


def test_the_settlement_day_should_come_from_the_grace_period_when_deploying() -> None:
    [settlement] = [d for d in deployments() if d["name"] == "quarterly-settlement"]

    assert settlement["schedules"][0]["cron"] == (
        "0 9 {{ $CHANNELOPS_SETTLEMENT_DAY }} 1,4,7,10 *"
    )


def test_scorecards_should_go_out_on_the_3rd_and_the_pack_after_settlement() -> None:
    crons = {
        d["name"]: d["schedules"][0]["cron"] for d in deployments() if "schedules" in d
    }

    assert crons["monthly-scorecards"] == "0 8 3 * *"
    assert crons["meeting-pack"] == "0 10 {{ $CHANNELOPS_MEETING_PACK_DAY }} 1,4,7,10 *"


def test_the_worker_should_send_channelops_logs_to_the_run() -> None:
    env = prefect_yaml()["definitions"]["work_pool"]["job_variables"]["env"]

    assert env["PREFECT_LOGGING_EXTRA_LOGGERS"].split(",") == [
        "channelops",
        "flows",
        "expectations",
        "notifications",
    ]

"""The ops stack's plan: which database, which environment, what `down` stops.

Bringing a real stack up is tests/ops/test_deployments.py's job.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from channelops.ops_stack import (
    OpsStackError,
    plan_stack,
    stack_environment,
    stop_stack,
)
from channelops.settings import PROJECT_DIR, Settings


def test_the_default_database_should_be_sqlite_under_the_channelops_home(
    isolated_settings: Path,
) -> None:
    plan = plan_stack(Settings())

    assert plan.database_url == (
        f"sqlite+aiosqlite:///{isolated_settings.resolve()}/ops/prefect.db"
    )
    assert plan.api_url == "http://127.0.0.1:4200/api"


def test_postgres_should_use_the_warehouse_server_and_never_show_the_password() -> None:
    settings = Settings(pg_host="db.internal", pg_password=SecretStr("s3cret"))

    plan = plan_stack(settings, database="postgres")

    assert plan.database_url == (
        "postgresql+asyncpg://postgres:s3cret@db.internal:5432/prefect"
    )
    assert "s3cret" not in plan.database
    assert plan.database.startswith("postgresql+asyncpg://postgres:***@db.internal")


def test_a_database_the_server_cannot_use_should_be_refused_with_the_choices() -> None:
    with pytest.raises(OpsStackError, match="'sqlite', 'postgres'"):
        plan_stack(Settings(), database="mysql://root@127.0.0.1/prefect")


def test_the_environment_should_point_everything_at_this_stack(
    isolated_settings: Path,
) -> None:
    settings = Settings(settlement_grace_days=14)

    env = stack_environment(settings, plan_stack(settings, port=4310, docs_port=4311))

    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4310/api"
    assert env["CHANNELOPS_DOCS_URL"] == "http://127.0.0.1:4311"
    assert env["CHANNELOPS_HOME"] == str(isolated_settings.resolve())
    assert env["PWD"] == str(PROJECT_DIR)
    assert env["CHANNELOPS_SETTLEMENT_DAY"] == "15"
    assert env["CHANNELOPS_MEETING_PACK_DAY"] == "16"
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_a_grace_period_past_the_28th_should_be_refused() -> None:
    with pytest.raises(ValueError, match="settlement_grace_days"):
        Settings(settlement_grace_days=28)


def test_down_without_a_stack_should_stop_nothing() -> None:
    assert stop_stack(Settings()) == []

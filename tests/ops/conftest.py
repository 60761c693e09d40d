"""A real ops stack for the deployment tests, brought up once per module.

`channelops ops up` runs as an operator runs it, on a throwaway PostgreSQL
database (the production choice for the Prefect server), on free ports, with
a 12-partner demo network in its own channelops home; `ops down` and the
database drop follow the last test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from channelops.demo import generate_demo
from tests.conftest import POSTGRES_ADMIN, REPO

# `ops up` on a busy 2-core machine: server, pool, deploy, worker.
OPS_UP_SECONDS = 600
DEMO_PARTNERS = 12
DEMO_LAST_QUARTER = "2026Q3"


@dataclass(frozen=True)
class OpsStack:
    home: Path
    api_url: str
    docs_url: str
    env: dict[str, str]

    def channelops(self, *arguments: str) -> subprocess.CompletedProcess[str]:
        """Run the channelops command against this stack's home."""
        return subprocess.run(
            [str(Path(sys.executable).with_name("channelops")), *arguments],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=OPS_UP_SECONDS,
            check=False,
        )

    @contextmanager
    def api(self) -> Iterator[None]:
        """Point this process's Prefect client at the stack, like the UI."""
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: self.api_url}):
            yield


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _operator_environment(home: Path) -> dict[str, str]:
    """The test process's environment without its channelops and Prefect settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CHANNELOPS_", "PREFECT_"))
    }
    env["CHANNELOPS_HOME"] = str(home)
    return env


@contextmanager
def _dropped_afterwards(database: str) -> Iterator[None]:
    import psycopg2

    try:
        yield
    finally:
        admin = psycopg2.connect(**POSTGRES_ADMIN)
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {database} with (force)")
        admin.close()


@pytest.fixture(scope="module")
def ops_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpsStack]:
    home = tmp_path_factory.mktemp("ops") / "home"
    generate_demo(
        home / "inbox", partner_count=DEMO_PARTNERS, last_quarter=DEMO_LAST_QUARTER
    )
    port, docs_port = _free_port(), _free_port()
    # `ops up` creates the database: the server's first start on PostgreSQL.
    database = f"prefect_ops_test_{uuid.uuid4().hex[:12]}"
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
    stack = OpsStack(
        home,
        f"http://127.0.0.1:{port}/api",
        f"http://127.0.0.1:{docs_port}",
        _operator_environment(home),
    )
    with _dropped_afterwards(database):
        up = stack.channelops(
            "ops",
            "up",
            "--database",
            url,
            "--port",
            str(port),
            "--docs-port",
            str(docs_port),
        )
        try:
            assert up.returncode == 0, up.stdout + up.stderr
            yield stack
        finally:
            down = stack.channelops("ops", "down")
            assert down.returncode == 0, down.stdout + down.stderr

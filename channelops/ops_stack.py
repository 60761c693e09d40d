"""The local ops stack: a Prefect server, the work pool, the deployments, a worker.

``channelops ops up`` (``make ops``) brings it up in the background on an
operator's machine, ready to run from the Prefect UI:

1. a Prefect server on 127.0.0.1, its database SQLite under the channelops
   home or PostgreSQL (the production choice);
2. the ``channelops`` process work pool, created before deploying, because a
   deployment to a missing pool never runs;
3. every deployment in ``prefect.yaml``, with the settlement day worked out
   from ``CHANNELOPS_SETTLEMENT_GRACE_DAYS``;
4. a process worker that runs the flows from this checkout;
5. a static file server for the Data Docs and dbt docs that run artifacts
   link to.

``channelops ops down`` stops what ``up`` started; the process ids, URLs
and logs are recorded in ``<home>/ops``. Prefect is driven through its own
CLI, the commands an operator would type by hand.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from channelops.errors import ChannelopsError
from channelops.settings import PREFECT_DEFAULTS, PROJECT_DIR, Settings

logger = logging.getLogger(__name__)

WORK_POOL = "channelops"
HOST = "127.0.0.1"
DEFAULT_PORT = 4200
DEFAULT_DOCS_PORT = 4201
# The Prefect database the "postgres" choice uses, beside the warehouse.
PREFECT_PG_DATABASE = "prefect"
# The server is healthy in ~22 s cold on 2 cores, much later under load.
SERVER_START_SECONDS = 180.0
# A worker registers with its pool within seconds of starting.
WORKER_START_SECONDS = 90.0
POLL_SECONDS = 1.0
# `prefect deploy --all` imports every flow (Great Expectations ~5 s).
DEPLOY_SECONDS = 300.0
# How long a stopped process gets to exit before it is killed.
STOP_GRACE_SECONDS = 20.0
# What each recorded process's command line holds, so that a process id
# reused after a reboot is never taken for part of the stack.
COMMAND_MARKERS = {
    "server": "server start",
    "worker": "worker start",
    "docs": "http.server",
}
# Enough of a failed command's output to say why.
OUTPUT_TAIL_LINES = 25


class OpsStackError(ChannelopsError):
    """The ops stack could not be brought up or down."""


@dataclass(frozen=True)
class StackPlan:
    """Where the stack listens and which database the Prefect server uses."""

    port: int
    docs_port: int
    database_url: str

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def docs_url(self) -> str:
        return f"http://{HOST}:{self.docs_port}"

    @property
    def database(self) -> str:
        """The database URL with any password masked, for logs and status."""
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


@dataclass(frozen=True)
class StackState:
    """What ``ops up`` started, as recorded in ``<home>/ops/stack.json``."""

    api_url: str
    ui_url: str
    docs_url: str
    database: str
    processes: dict[str, int]
    logs: dict[str, str]


def plan_stack(
    settings: Settings,
    *,
    port: int = DEFAULT_PORT,
    docs_port: int = DEFAULT_DOCS_PORT,
    database: str = "sqlite",
) -> StackPlan:
    """Resolve ``database`` (``sqlite``, ``postgres`` or a URL) into a plan."""
    return StackPlan(port, docs_port, _database_url(settings, database))


def _database_url(settings: Settings, database: str) -> str:
    if database == "sqlite":
        return f"sqlite+aiosqlite:///{settings.ops_dir.resolve() / 'prefect.db'}"
    if database == "postgres":
        password = settings.pg_password.get_secret_value()
        credentials = f"{settings.pg_user}:{password}" if password else settings.pg_user
        return (
            f"postgresql+asyncpg://{credentials}@{settings.pg_host}:"
            f"{settings.pg_port}/{PREFECT_PG_DATABASE}"
        )
    if database.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return database
    raise OpsStackError(
        f"database {database!r} is not one the Prefect server can use; give "
        "'sqlite', 'postgres' (CHANNELOPS_PG_* with database 'prefect') or a URL "
        "starting 'postgresql+asyncpg://' or 'sqlite+aiosqlite://'"
    )


def stack_environment(settings: Settings, plan: StackPlan) -> dict[str, str]:
    """The environment of every process of the stack and of its flow runs."""
    env = {**PREFECT_DEFAULTS, **os.environ}
    env.update(
        PREFECT_API_URL=plan.api_url,
        PREFECT_UI_URL=plan.ui_url,
        PREFECT_API_DATABASE_CONNECTION_URL=plan.database_url,
        PREFECT_HOME=str(settings.ops_dir.resolve() / "prefect"),
        CHANNELOPS_HOME=str(settings.home.resolve()),
        CHANNELOPS_DOCS_URL=plan.docs_url,
        # prefect.yaml reads these when deploying: the checkout the worker
        # runs from, the day of the month the settlement runs and the day
        # after it, when the meeting pack is built from its statements.
        PWD=str(PROJECT_DIR),
        CHANNELOPS_SETTLEMENT_DAY=str(settlement_day(settings)),
        CHANNELOPS_MEETING_PACK_DAY=str(settlement_day(settings) + 1),
    )
    return env


def settlement_day(settings: Settings) -> int:
    """Day of the month after quarter end on which the settlement runs."""
    return settings.settlement_grace_days + 1


def start_stack(settings: Settings, plan: StackPlan) -> StackState:
    """Bring the stack up; if it is already up, say where it is."""
    running = read_state(settings)
    if running is not None and _alive_processes(running):
        logger.info("The ops stack is already up at %s", running.ui_url)
        return running
    ops_dir = settings.ops_dir
    ops_dir.mkdir(parents=True, exist_ok=True)
    _require_free_port(plan.port, "--port")
    _require_free_port(plan.docs_port, "--docs-port")
    if plan.database_url.startswith("postgresql"):
        _ensure_postgres_database(plan.database_url)
    env = stack_environment(settings, plan)
    processes: dict[str, int] = {}
    logs: dict[str, str] = {}
    try:
        _spawn(
            "server",
            [_prefect(), "server", "start", "--host", HOST, "--port", str(plan.port)],
            env,
            ops_dir,
            processes,
            logs,
        )
        _wait_until_healthy(plan, processes["server"], Path(logs["server"]))
        _prefect_command(
            ["work-pool", "create", WORK_POOL, "--type", "process", "--overwrite"],
            env,
            "create the work pool",
        )
        logger.info("Work pool %s is ready", WORK_POOL)
        _prefect_command(["--no-prompt", "deploy", "--all"], env, "deploy")
        logger.info(
            "Deployed prefect.yaml; settlement on day %d after quarter end",
            settlement_day(settings),
        )
        _refuse_unknown_parameters(plan.api_url)
        _spawn(
            "worker",
            [_prefect(), "worker", "start", "--pool", WORK_POOL, "--type", "process"],
            env,
            ops_dir,
            processes,
            logs,
        )
        _wait_for_worker(plan, processes["worker"], Path(logs["worker"]))
        _spawn(
            "docs",
            [
                sys.executable,
                "-m",
                "http.server",
                str(plan.docs_port),
                "--bind",
                HOST,
                "--directory",
                str(_docs_root(settings)),
            ],
            env,
            ops_dir,
            processes,
            logs,
        )
    except BaseException:
        _terminate(processes)
        raise
    state = StackState(
        plan.api_url, plan.ui_url, plan.docs_url, plan.database, processes, logs
    )
    _state_path(settings).write_text(
        json.dumps(asdict(state), indent=1), encoding="utf-8"
    )
    logger.info(
        "Ops stack up: Prefect UI %s, database %s, work pool %s",
        plan.ui_url,
        plan.database,
        WORK_POOL,
    )
    return state


def stop_stack(settings: Settings) -> list[str]:
    """Stop what ``ops up`` started; the names of the processes stopped."""
    state = read_state(settings)
    if state is None:
        return []
    stopped = _terminate(state.processes)
    _state_path(settings).unlink(missing_ok=True)
    logger.info("Ops stack down: stopped %s", ", ".join(stopped) or "nothing")
    return stopped


def read_state(settings: Settings) -> StackState | None:
    path = _state_path(settings)
    if not path.exists():
        return None
    return StackState(**json.loads(path.read_text(encoding="utf-8")))


def stack_health(state: StackState) -> dict[str, bool]:
    """Which of the stack's processes are running, and whether the API answers."""
    alive = _alive_processes(state)
    health = {name: name in alive for name in state.processes}
    health["api"] = _api_healthy(state.api_url)
    return health


def _state_path(settings: Settings) -> Path:
    return settings.ops_dir / "stack.json"


def _prefect() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def _require_free_port(port: int, option: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise OpsStackError(
                f"port {port} on {HOST} is in use (another Prefect server or ops "
                f"stack?); stop it with `channelops ops down`, or choose another "
                f"port with {option}"
            ) from None


def _ensure_postgres_database(database_url: str) -> None:
    """Create the Prefect server's PostgreSQL database if it is missing."""
    import psycopg2
    from psycopg2 import sql
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    try:
        connection = psycopg2.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            dbname="postgres",
        )
    except psycopg2.OperationalError as error:
        raise OpsStackError(
            f"cannot reach PostgreSQL at {url.host}:{url.port} as {url.username!r} "
            f"for the Prefect database: {error}. Start PostgreSQL, or run the "
            "stack on SQLite (the default)"
        ) from None
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "select 1 from pg_database where datname = %s", (url.database,)
            )
            if cursor.fetchone() is None:
                cursor.execute(
                    sql.SQL("create database {}").format(sql.Identifier(url.database))
                )
                logger.info(
                    "Created PostgreSQL database %s for the Prefect server",
                    url.database,
                )
    finally:
        connection.close()


def _spawn(
    name: str,
    command: list[str],
    env: Mapping[str, str],
    ops_dir: Path,
    processes: dict[str, int],
    logs: dict[str, str],
) -> None:
    """Start one process of the stack in its own session, logging to a file."""
    log_path = ops_dir / f"{name}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    processes[name] = process.pid
    logs[name] = str(log_path)
    logger.info("Started the %s (pid %d), log %s", name, process.pid, log_path)


def _wait_until_healthy(plan: StackPlan, pid: int, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if _api_healthy(plan.api_url):
            return
        if not _is_running(pid):
            raise OpsStackError(
                f"the Prefect server stopped while starting; its log {log} ends:\n"
                + _tail(log)
            )
        time.sleep(POLL_SECONDS)
    raise OpsStackError(
        f"the Prefect server did not answer at {plan.api_url} within "
        f"{SERVER_START_SECONDS:.0f} s; its log {log} ends:\n" + _tail(log)
    )


def _wait_for_worker(plan: StackPlan, pid: int, log: Path) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if _pool_has_worker(plan.api_url):
            return
        if not _is_running(pid):
            raise OpsStackError(
                f"the worker stopped while starting; its log {log} ends:\n" + _tail(log)
            )
        time.sleep(POLL_SECONDS)
    raise OpsStackError(
        f"no worker joined work pool {WORK_POOL!r} within "
        f"{WORKER_START_SECONDS:.0f} s; its log {log} ends:\n" + _tail(log)
    )


def _refuse_unknown_parameters(api_url: str) -> None:
    """Make every deployment's schema refuse parameter names it does not know.

    Prefect writes the schema without ``additionalProperties: false``, so a
    misspelt name (``partner`` for ``partners``) would be accepted and the
    run would crash as it starts; the server refuses it instead.
    """
    deployments = _api(
        api_url,
        "POST",
        "/deployments/filter",
        {"work_pools": {"name": {"any_": [WORK_POOL]}}},
    )
    for deployment in deployments:
        schema = deployment["parameter_openapi_schema"]
        schema["additionalProperties"] = False
        _api(
            api_url,
            "PATCH",
            f"/deployments/{deployment['id']}",
            {"parameter_openapi_schema": schema},
        )
    logger.info("%d deployment(s) refuse parameters they do not know", len(deployments))


def _api(api_url: str, method: str, path: str, body: object) -> Any:
    request = urllib.request.Request(
        f"{api_url}{path}",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


def _api_healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _pool_has_worker(api_url: str) -> bool:
    try:
        workers = _api(api_url, "POST", f"/work_pools/{WORK_POOL}/workers/filter", {})
    except (urllib.error.URLError, OSError):
        return False
    return bool(workers)


def _prefect_command(arguments: list[str], env: Mapping[str, str], what: str) -> None:
    completed = subprocess.run(
        [_prefect(), *arguments],
        cwd=PROJECT_DIR,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=DEPLOY_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip().splitlines()
        raise OpsStackError(
            f"`prefect {' '.join(arguments)}` could not {what} (exit "
            f"{completed.returncode}); its output ends:\n"
            + "\n".join(output[-OUTPUT_TAIL_LINES:])
        )


def _docs_root(settings: Settings) -> Path:
    """A folder holding only links to the two docs sites, for the docs server."""
    root = settings.ops_dir / "docs"
    root.mkdir(parents=True, exist_ok=True)
    for site in (settings.data_docs_dir, settings.dbt_docs_dir):
        site.mkdir(parents=True, exist_ok=True)
        link = root / site.name
        if not link.is_symlink():
            link.symlink_to(site.resolve(), target_is_directory=True)
    return root


def _is_running(pid: int) -> bool:
    """True while ``pid`` is a live process (not a zombie awaiting its parent)."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    # The state letter follows the command name in parentheses.
    return status.rpartition(")")[2].split()[0] != "Z"


def _is_ours(name: str, pid: int) -> bool:
    """True if ``pid`` still runs the command the stack started as ``name``."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return False
    marker = COMMAND_MARKERS.get(name)
    return marker is not None and marker.encode() in command and _is_running(pid)


def _alive_processes(state: StackState) -> list[str]:
    return [name for name, pid in state.processes.items() if _is_ours(name, pid)]


def _terminate(processes: Mapping[str, int]) -> list[str]:
    """SIGTERM each process group the stack started, then SIGKILL stragglers."""
    stopped = []
    for name, pid in reversed(list(processes.items())):
        if not _is_ours(name, pid):
            continue
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while _is_running(pid) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS / 4)
        if _is_running(pid):
            os.killpg(pid, signal.SIGKILL)
        stopped.append(name)
        logger.info("Stopped the %s (pid %d)", name, pid)
    return stopped


def _tail(log: Path) -> str:
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-OUTPUT_TAIL_LINES:])

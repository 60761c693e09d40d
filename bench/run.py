"""The benchmark: every stage at one scale, each in its own process, side by side.

One run generates the network (once per scale), then for each repeat starts
from an empty warehouse and measures pull, dbt build, gate, publish, render
and send (to an aiosmtpd server on 127.0.0.1 that counts and discards), a
nightly drop of 0.1 % new lines (pull + incremental build + gate) against a
full refresh, the bare-DuckDB floor and the pandas baseline. It writes
``<out>/<scale>.json`` and ``<out>/<scale>.md``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import socket
import statistics
import sys
import threading
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.generate import LAST_QUARTER, Scale, generate, write_nightly
from bench.measure import Measured, run_measured
from channelops.settings import DEFAULT_CONFIG_DIR, PROJECT_DIR

logger = logging.getLogger(__name__)

# The one rebate program both channelops and the pandas baseline compute.
BENCH_PROGRAM = "quarterly_volume.yml"
# Statement mail is not throttled in the benchmark: the server is local.
UNTHROTTLED_PER_SECOND = "1000000"
FULL_STAGES = ("pull", "dbt build", "gate", "publish", "render", "send")
NIGHTLY_STAGES = ("pull", "dbt build", "gate")
GIB = 1 << 30
# The pandas baseline's peak memory per order line (4.2 GiB at 10 M lines);
# it holds every line in memory, so a scale that needs more than this share
# of the machine's available memory is not run rather than swapped to death.
PANDAS_BYTES_PER_LINE = 450
PANDAS_MEMORY_SHARE = 0.75


class CountingHandler:
    """An SMTP server's handler that counts messages and bytes, keeps nothing."""

    def __init__(self) -> None:
        self.messages = 0
        self.bytes = 0
        self._lock = threading.Lock()

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        with self._lock:
            self.messages += 1
            self.bytes += len(envelope.content or b"")
        return "250 OK"


def bench_config(work: Path) -> Path:
    """The demo configuration with one rebate program and no adjustments.

    The pandas baseline implements the retroactive quarterly volume program
    only, so both sides compute the same statements; the demo's manual
    adjustments name demo partners the generated network does not have.
    """
    config = work / "config"
    shutil.rmtree(config, ignore_errors=True)
    shutil.copytree(
        DEFAULT_CONFIG_DIR,
        config,
        ignore=shutil.ignore_patterns("adjustments.yml", "programs"),
    )
    (config / "programs").mkdir()
    shutil.copy(
        DEFAULT_CONFIG_DIR / "programs" / BENCH_PROGRAM,
        config / "programs" / BENCH_PROGRAM,
    )
    return config


def _environment(
    home: Path, drop: Path, smtp_port: int, config: Path
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CHANNELOPS_ENV="local",
        CHANNELOPS_HOME=str(home),
        CHANNELOPS_DROP_DIR=str(drop),
        CHANNELOPS_CONFIG_DIR=str(config),
        CHANNELOPS_SMTP_HOST="127.0.0.1",
        CHANNELOPS_SMTP_PORT=str(smtp_port),
        CHANNELOPS_MAIL_PER_SECOND=UNTHROTTLED_PER_SECOND,
        PYTHONPATH=str(PROJECT_DIR),
    )
    return env


def _stage(
    name: str, env: dict[str, str], logs: Path, *, module: str = "bench.stages"
) -> Measured:
    command = [sys.executable, "-m", module, name, LAST_QUARTER]
    log = logs / f"{name.replace(' ', '_')}.log"
    return run_measured(command, env=env, cwd=PROJECT_DIR, log=log)


def _manifest_for_floor(env: dict[str, str], home: Path, logs: Path) -> Path:
    """Compile the models as a full refresh would run them, for the floor."""
    target = home / "floor-target"
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "compile",
        "--full-refresh",
        "--project-dir",
        str(PROJECT_DIR / "dbt_project"),
        "--profiles-dir",
        str(PROJECT_DIR / "dbt_project"),
        "--target-path",
        str(target),
        "--log-path",
        str(home / "dbt" / "logs"),
    ]
    dbt_env = dict(env)
    dbt_env["CHANNELOPS_WAREHOUSE_PATH"] = str(home / "warehouse.duckdb")
    run_measured(command, env=dbt_env, cwd=home, log=logs / "floor_compile.log")
    return target / "manifest.json"


def one_repeat(
    scale: Scale, drop: Path, work: Path, smtp_port: int, handler: CountingHandler
) -> dict[str, Any]:
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    for night in drop.glob("*_night*.csv"):
        night.unlink()
    logs = work / "logs"
    config = bench_config(work)
    env = _environment(home, drop, smtp_port, config)
    full: dict[str, Measured] = {}
    before = handler.messages
    for name in FULL_STAGES:
        full[name] = _stage(name, env, logs)
    delivered = handler.messages - before
    manifest = _manifest_for_floor(env, home, logs)
    floor = run_measured(
        [
            sys.executable,
            "-m",
            "bench.floor",
            str(drop),
            str(home / "warehouse.duckdb"),
            str(manifest),
            str(work / "floor"),
        ],
        env=env,
        cwd=PROJECT_DIR,
        log=logs / "floor.log",
    )
    pandas_out = work / "pandas.json"
    skipped = pandas_skip_reason(scale.lines, available_memory_bytes())
    if skipped is not None:
        logger.warning("pandas baseline not run: %s", skipped)
        return _repeat_result(
            full, floor, None, {"skipped": skipped}, delivered, env, logs, drop, scale
        )
    pandas = run_measured(
        [
            sys.executable,
            "-m",
            "bench.pandas_baseline",
            str(drop),
            str(config),
            LAST_QUARTER,
            str(pandas_out),
        ],
        env=env,
        cwd=PROJECT_DIR,
        log=logs / "pandas.log",
    )
    parity = _rebate_parity(home, pandas_out)
    return _repeat_result(
        full, floor, pandas, parity, delivered, env, logs, drop, scale
    )


def _repeat_result(
    full: dict[str, Measured],
    floor: Measured,
    pandas: Measured | None,
    parity: dict[str, Any],
    delivered: int,
    env: dict[str, str],
    logs: Path,
    drop: Path,
    scale: Scale,
) -> dict[str, Any]:
    """The nightly drop and the full refresh, then one repeat's measurements."""
    _night_path, night_lines = write_nightly(drop, scale)
    nightly = {name: _stage(name, env, logs / "nightly") for name in NIGHTLY_STAGES}
    refresh = _stage("dbt full refresh", env, logs)
    return {
        "full": {k: asdict(v) for k, v in full.items()},
        "nightly": {k: asdict(v) for k, v in nightly.items()},
        "nightly_lines": night_lines,
        "full_refresh_build": asdict(refresh),
        "floor": asdict(floor),
        "pandas": asdict(pandas) if pandas is not None else None,
        "delivered": delivered,
        "rebate_parity": parity,
    }


def available_memory_bytes() -> int:
    """MemAvailable of this machine, from /proc/meminfo."""
    for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def pandas_skip_reason(lines: int, available: int) -> str | None:
    """Why the pandas baseline would not fit in memory at ``lines``, or None."""
    needed = lines * PANDAS_BYTES_PER_LINE
    if needed <= available * PANDAS_MEMORY_SHARE:
        return None
    return (
        f"it would need about {needed / GIB:.0f} GiB for {lines:,} lines "
        f"({PANDAS_BYTES_PER_LINE} bytes a line, measured at 10 M) and "
        f"{available / GIB:.0f} GiB are available"
    )


def _rebate_parity(home: Path, pandas_out: Path) -> dict[str, Any]:
    """Do pandas and channelops agree on every rebate line of the period?"""
    theirs = json.loads(pandas_out.read_text(encoding="utf-8"))["rebate_lines"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as db:
        ours = {
            f"{partner}|{program}": int(amount * 100)
            for partner, program, amount in db.execute(
                # The entitlement before negative balances carried in from
                # earlier quarters, which the pandas baseline does not keep.
                "select partner_id, program_id, entitlement_amount "
                "from marts.fct_rebate_statement_lines where period = ?",
                (LAST_QUARTER,),
            ).fetchall()
        }
    differing = sorted(
        k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)
    )
    return {"lines": len(ours), "differing": len(differing), "examples": differing[:5]}


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(int(memory) / (1 << 20), 1),
        "load_average_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "platform": platform.platform(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _network(scale: Scale, work: Path) -> Path:
    """The scale's drop folder under ``work``, generated the first time."""
    drop = work / f"drop-{scale.lines}-{scale.partners}"
    marker = drop / ".generated"
    if not marker.exists():
        shutil.rmtree(drop, ignore_errors=True)
        generate(drop, scale)
        marker.write_text(scale.label, encoding="utf-8")
    return drop


def run_stages(
    scale: Scale, work: Path, out: Path, stages: list[str], repeats: int = 1
) -> dict[str, Any]:
    """Only ``stages``, in order, each repeat from an empty warehouse.

    For measuring one stage before and after a change on the same files
    (``--stages pull``); the ratios need every stage, so there are none.
    """
    unknown = sorted(set(stages) - set(FULL_STAGES))
    if unknown:
        raise ValueError(f"unknown stage(s) {unknown}; choose from {FULL_STAGES}")
    drop = _network(scale, work)
    info = machine()
    runs = []
    for _ in range(repeats):
        home = work / "home"
        shutil.rmtree(home, ignore_errors=True)
        env = _environment(home, drop, _free_port(), bench_config(work))
        runs.append({name: asdict(_stage(name, env, work / "logs")) for name in stages})
    from bench.report import stages_markdown, summarise_stages

    summary = summarise_stages(scale, runs, info)
    name = f"{_label(scale.lines)}-{'-'.join(s.replace(' ', '_') for s in stages)}"
    _write_results(out / name, summary, runs, stages_markdown(summary))
    return summary


def run_benchmark(
    scale: Scale, work: Path, out: Path, repeats: int = 1
) -> dict[str, Any]:
    drop = _network(scale, work)
    handler = CountingHandler()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        info = machine()
        runs = [one_repeat(scale, drop, work, port, handler) for _ in range(repeats)]
    finally:
        controller.stop()
    from bench.report import markdown, summarise

    summary = summarise(scale, runs, info)
    _write_results(out / _label(scale.lines), summary, runs, markdown(summary))
    return summary


def _write_results(
    stem: Path, summary: dict[str, Any], runs: list[dict[str, Any]], table: str
) -> None:
    """``<stem>.json`` with every measurement and ``<stem>.md`` with the table."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(
        json.dumps({"summary": summary, "runs": runs}, indent=2, default=str),
        encoding="utf-8",
    )
    stem.with_suffix(".md").write_text(table, encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _label(lines: int) -> str:
    for suffix, size in (("m", 1_000_000), ("k", 1_000)):
        if lines % size == 0:
            return f"{lines // size}{suffix}"
    return str(lines)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0

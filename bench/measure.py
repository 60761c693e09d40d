"""Run a command and measure it: wall time, CPU time and the peak RSS of its
process tree.

Linux only: the tree is read from ``/proc`` every few milliseconds, so a
child that lives shorter than one poll can be missed (the poll interval is
small next to any stage worth measuring).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POLL_SECONDS = 0.05
RESULT_MARK = "BENCH-RESULT "
PAGE_KIB = 1024


@dataclass
class Measured:
    seconds: float
    peak_rss_bytes: int
    result: dict[str, Any] = field(default_factory=dict)
    log_tail: str = ""
    # User + system CPU of the process and the children it waited for: on a
    # shared machine far steadier than wall time, which waits for the cores.
    cpu_seconds: float = 0.0


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(child) for child in text.split()]
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * PAGE_KIB
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, now."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        total += _rss_bytes(current)
        pending += _children(current)
    return total


def run_measured(
    command: list[str], *, env: dict[str, str], cwd: Path, log: Path
) -> Measured:
    """Run ``command`` to its end; raise with the log's tail if it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out:
        used_before = _children_cpu_seconds()
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss_bytes(process.pid))
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
        cpu_seconds = _children_cpu_seconds() - used_before
    text = log.read_text(encoding="utf-8", errors="replace")
    tail = "\n".join(text.splitlines()[-40:])
    if process.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited with {process.returncode}; log {log}:\n{tail}"
        )
    result: dict[str, Any] = {}
    for line in text.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
    return Measured(seconds, peak, result, tail, cpu_seconds)


def _children_cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime

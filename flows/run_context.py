"""What every flow run starts from: settings, the run id and failure alerts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from prefect.runtime import flow_run

from channelops.errors import GateBlocked
from flows.stages import alert_ops


def current_run_id() -> str:
    """The Prefect flow-run id, or a fresh one outside Prefect."""
    run_id = flow_run.get_id()
    return str(run_id) if run_id else uuid.uuid4().hex


@contextmanager
def alerting_ops(flow: str, period: str, run_id: str) -> Iterator[None]:
    """Tell ops when a run fails, with the error and what to do, then re-raise."""
    try:
        yield
    except GateBlocked:
        raise
    except Exception as error:
        alert_ops(
            f"[channelops] {flow} {period} 运行失败 / run failed",
            [
                f"Run {run_id} of {flow} for {period} failed.",
                f"Error: {type(error).__name__}: {error}",
                "Fix the cause named above, then rerun the same period from the "
                "Prefect UI; reruns never publish or send twice.",
            ],
            key=f"failure:{run_id}",
        )
        raise

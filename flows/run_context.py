"""What every flow run is wrapped in: the lock, the ops alert and the artifacts.

A flow resolves its parameters first (a contradiction stops it before any
work), then runs its stages inside :func:`operating`, which

- holds the warehouse lock, so one run writes at a time and a run that
  has to wait says for whom;
- e-mails ops when a stage fails, naming the stage, the error and what to
  do (a blocked gate sends its own alert);
- leaves the run's artifacts in the Prefect UI, whether it finished or not.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_run_logger
from prefect.runtime import flow_run

from channelops.errors import ChannelopsError, GateBlocked, WarehouseBusy
from channelops.settings import Settings
from channelops.warehouse import warehouse_lock
from flows.artifacts import publish_artifacts
from flows.retries import is_transient
from flows.stages import RunSummary, alert_ops

# The loggers whose INFO lines an operator reads in the run's log.
OPERATOR_LOGGERS = ("channelops", "flows", "expectations", "notifications")

# Each flow's stages in order, as the RunSummary attribute that a finished
# stage fills in and the stage's name in the Prefect UI.
Stages = tuple[tuple[str, str], ...]
SCORING_STAGES: Stages = (
    ("pull", "pull files"),
    ("transform", "build models"),
    ("gate", "check data quality"),
    ("scorecard_report", "publish scorecards"),
)
NIGHTLY_STAGES: Stages = (
    *SCORING_STAGES,
    ("warnings", "alert ops of new warnings"),
)
SETTLEMENT_STAGES: Stages = (
    *SCORING_STAGES,
    ("publish", "publish statements"),
    ("send", "queue and send statement e-mails"),
)
MONTHLY_SCORECARD_STAGES: Stages = (
    ("pull", "pull files"),
    ("transform", "build models"),
    ("gate", "check data quality"),
    ("scorecard_mail", "queue and send scorecard e-mails"),
)
MEETING_PACK_STAGES: Stages = (("meeting_pack", "build and mail the meeting pack"),)
# What a run that never got the warehouse lock was doing.
WAITING_STAGE = "wait for the warehouse"
RESEND_STAGES: Stages = (
    ("resend", "queue the resend"),
    ("send", "send statement e-mails"),
)


def current_run_id() -> str:
    """The Prefect flow-run id, or a fresh one outside Prefect."""
    run_id = flow_run.get_id()
    return str(run_id) if run_id else uuid.uuid4().hex


def speak_to_operators() -> None:
    """Let channelops' own INFO lines through, unless a level was set."""
    for name in OPERATOR_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


@contextmanager
def operating(
    summary: RunSummary, settings: Settings, stages: Stages
) -> Iterator[None]:
    """Run a flow's stages under the lock; alert on failure; always leave artifacts."""
    speak_to_operators()
    holder = f"{summary.flow} {summary.period} run {summary.run_id}"
    get_run_logger().info(
        "%s starts for %s%s",
        holder,
        (
            "partner(s) " + ", ".join(sorted(summary.partners))
            if summary.partners is not None
            else "every partner"
        ),
        " as a dry run (nothing published or sent)" if summary.dry_run else "",
    )
    locked = False
    try:
        with warehouse_lock(settings, holder=holder):
            locked = True
            yield
    except GateBlocked:
        raise
    except Exception as error:
        stage = failed_stage(summary, stages) if locked else WAITING_STAGE
        _alert_failure(summary, stage, error)
        raise
    finally:
        _leave_artifacts(summary, settings)


def failed_stage(summary: RunSummary, stages: Stages) -> str:
    """The first stage the run did not finish, as the Prefect UI names it."""
    for attribute, name in stages:
        if getattr(summary, attribute) is None:
            return name
    return f"after {stages[-1][1]}"


def advice(error: BaseException) -> str:
    """What ops should do about a failed run."""
    if isinstance(error, WarehouseBusy):
        return (
            "Nothing was changed. Trigger this run again once the other run "
            "has finished."
        )
    if is_transient(error):
        return (
            "The retries did not get through. Check the SMTP relay, PostgreSQL "
            "or the network named in the error, then rerun the same period: "
            "only what was not done yet is done, no e-mail goes out twice."
        )
    if isinstance(error, ChannelopsError):
        return (
            "Fix what the error names (an input file, a rule or a setting), then "
            "rerun the same period from the Prefect UI; reruns never publish or "
            "send twice."
        )
    return (
        "This is not a known data problem: read the run's log in the Prefect "
        "UI, fix the cause, then rerun the same period; reruns never publish "
        "or send twice."
    )


def run_link(url: str | None) -> str | None:
    """The run's page in the Prefect UI, or None when no UI is configured.

    Prefect builds the link from PREFECT_UI_URL and spells an unset one
    "None" (a run started by the command line on a temporary API has none).
    """
    if url is None or not url.startswith(("http://", "https://")):
        return None
    return url


def _alert_failure(summary: RunSummary, stage: str, error: BaseException) -> None:
    get_run_logger().error(
        "%s %s failed in stage %r: %s", summary.flow, summary.period, stage, error
    )
    lines = [
        f"Run {summary.run_id} of {summary.flow} for {summary.period} failed.",
        f"Stage: {stage}",
        f"Error: {type(error).__name__}: {error}",
        f"What to do: {advice(error)}",
    ]
    link = run_link(flow_run.ui_url)
    if link is not None:
        lines.append(f"The run in the Prefect UI: {link}")
    alert_ops(
        f"[channelops] {summary.flow} {summary.period} 运行失败 / run failed ({stage})",
        lines,
        key=f"failure:{summary.run_id}",
    )


def _leave_artifacts(summary: RunSummary, settings: Settings) -> None:
    try:
        publish_artifacts(summary, settings)
    except Exception:
        # The run's own outcome matters more than its report; say so and go on.
        get_run_logger().exception(
            "Could not leave the artifacts of %s %s in the Prefect UI",
            summary.flow,
            summary.period,
        )

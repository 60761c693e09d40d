"""Quarterly meeting pack: built from the published statements, mailed to ops."""

from __future__ import annotations

from typing import Literal

from prefect import flow

from channelops.periods import today_in
from channelops.settings import load_settings
from flows.artifacts import built_lineage_docs
from flows.parameters import AsOfDate, Period, settlement_quarter
from flows.run_context import MEETING_PACK_STAGES, current_run_id, operating
from flows.stages import RunSummary, send_meeting_pack


@flow(name="meeting_pack")
def meeting_pack(
    period: Period | None = None,
    as_of: AsOfDate | None = None,
    language: Literal["zh-CN", "en"] = "zh-CN",
) -> RunSummary:
    """Build the channel-meeting pack and e-mail it to the ops address once.

    The pack (HTML, XLSX, PDF) is built from the latest published statement
    of each partner; the same statements never mail it twice, a corrected
    statement mails a new version.

    Args:
        period: The settled quarter, like 2026Q3. Leave empty for the last
            quarter closed before as_of.
        as_of: Build the pack of the quarter closed before this date (default
            today, Beijing time). Give period or as_of, not both.
        language: The pack's language: zh-CN (default) or en.
    """
    settings = load_settings()
    quarter = settlement_quarter(period, as_of, today_in(settings.timezone))
    summary = RunSummary("meeting_pack", quarter.label, current_run_id())
    with operating(summary, settings, MEETING_PACK_STAGES):
        summary.meeting_pack = send_meeting_pack(quarter, language)
        summary.lineage_docs = built_lineage_docs(settings)
    return summary


if __name__ == "__main__":
    meeting_pack()

"""The tiers partners were told, kept once and for all.

dbt recomputes every tier on every build, so a changed threshold would
rewrite the tiers of periods partners have already been told about. When a
period's scorecards are queued for mail, or its statements (which show the
quarterly tier) are published, ``record_tiers`` appends each partner's tier
of that period, the streaks towards its next move and the tier rules
version to ``ops.partner_tier_records``. A period is recorded once per
partner and never changed. The tier walk (``int_scorecards__tier_walk``)
keeps a recorded period's tier and streaks and continues from them, so a
rule change moves only the periods not published yet.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from channelops.errors import ChannelopsError
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)

_QUARTER = re.compile(r"\d{4}Q[1-4]")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
# Partners named in one insert: well inside both databases' parameter limits.
PARTNERS_PER_STATEMENT = 500
_RECORD = """
insert into ops.partner_tier_records
select
    history.partner_id,
    history.grain,
    history.period,
    history.period_index,
    history.tier,
    history.score,
    history.score_tier,
    history.periods_qualifying_higher,
    history.pending_promotion_tier,
    history.periods_below_tier,
    history.pending_demotion_tier,
    settings.tier_rules_version,
    ?,
    ?
from marts.fct_partner_tier_history as history
cross join config.scorecard_settings as settings
where
    history.grain = ?
    and history.period = ?
    and history.partner_id in ({partners})
    and not exists (
        select 1
        from ops.partner_tier_records as recorded
        where
            recorded.partner_id = history.partner_id
            and recorded.grain = history.grain
            and recorded.period = history.period
    )
"""


def period_grain(period: str) -> str:
    """``quarter`` for ``2026Q3``, ``month`` for ``2026-09``."""
    if _QUARTER.fullmatch(period):
        return "quarter"
    if _MONTH.fullmatch(period):
        return "month"
    raise ChannelopsError(
        f"a tier is recorded for a quarter like '2026Q3' or a month like "
        f"'2026-09', received {period!r}"
    )


def record_tiers(
    warehouse: Warehouse, period: str, partner_ids: Iterable[str], recorded_for: str
) -> int:
    """Append the tiers of ``partner_ids`` in ``period`` not recorded yet.

    ``recorded_for`` says what published them (``scorecard_mail``,
    ``statement``). Returns how many partners were recorded now; the caller
    holds the transaction, so the record and the publication go together.
    """
    grain = period_grain(period)
    before = _count(warehouse, grain, period)
    now = datetime.now(UTC).replace(tzinfo=None)
    partners = sorted(set(partner_ids))
    for start in range(0, len(partners), PARTNERS_PER_STATEMENT):
        chunk = partners[start : start + PARTNERS_PER_STATEMENT]
        warehouse.execute(
            _RECORD.format(partners=", ".join("?" for _ in chunk)),
            (recorded_for, now, grain, period, *chunk),
        )
    recorded = _count(warehouse, grain, period) - before
    logger.info(
        "Recorded the tiers of %d partner(s) for %s (%s); earlier records kept",
        recorded,
        period,
        recorded_for,
    )
    return recorded


def _count(warehouse: Warehouse, grain: str, period: str) -> int:
    ((count,),) = warehouse.query(
        "select count(*) from ops.partner_tier_records where grain = ? and period = ?",
        (grain, period),
    )
    return int(count)

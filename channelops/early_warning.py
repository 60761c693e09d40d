"""Early warning for ops: the churn warnings and SLA breaches not yet alerted.

The marts hold every warning of every period (``fct_churn_risk``,
``fct_churn_warning_reasons``, ``fct_complaint_sla``). The nightly run mails
ops only what is new: a partner whose warning (at the configured level or
above) has a reason not mailed before for the quarter, and each complaint of
the quarter answered too late, once. What was mailed is remembered in
``ops.scorecard_alerts``, written right after the SMTP server accepted the
alert; a crash between the two can repeat an alert, never lose one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from channelops.periods import Quarter
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)

ALERTS_DDL = """
create table if not exists ops.scorecard_alerts (
    alert_key varchar not null,
    alert_kind varchar not null,
    partner_id varchar not null,
    period varchar not null,
    run_id varchar not null,
    alerted_at timestamp not null
)
"""

RISK_LEVELS = ("none", "low", "medium", "high")
# What each reason says, in the operator's words; {observed}, {reference}
# and {threshold} come from fct_churn_warning_reasons.
REASON_TEXT = {
    "order_gap": (
        "距上次下单 {observed:.0f} 天，通常间隔 {reference:.1f} 天 / "
        "{observed:.0f} days since the last order, usually {reference:.1f}"
    ),
    "run_rate_down": (
        "日均销售同比 {observed:+.0%} / daily run-rate {observed:+.0%} year on year"
    ),
    "collections_slipping": (
        "回款率 {observed:.0%}，上期 {reference:.0%} / collection ratio "
        "{observed:.0%}, {reference:.0%} the period before"
    ),
    "satisfaction_falling": (
        "满意度 {observed:.2f}，上期 {reference:.2f} / satisfaction "
        "{observed:.2f}, {reference:.2f} the period before"
    ),
    "sla_breaches": (
        "{observed:.0f} 起投诉超时响应(共 {reference:.0f} 起) / "
        "{observed:.0f} of {reference:.0f} complaint(s) answered late"
    ),
    "engagement_dropping": (
        "市场活动 {observed:.0f} 次，上期 {reference:.0f} 次 / "
        "{observed:.0f} activities, {reference:.0f} the period before"
    ),
}


@dataclass(frozen=True)
class WarningReason:
    reason: str
    observed: Decimal | None
    reference: Decimal | None
    threshold: Decimal | None
    is_new: bool

    @property
    def alert_key(self) -> str:
        return self.reason

    def text(self) -> str:
        values = {
            "observed": self.observed if self.observed is not None else Decimal(0),
            "reference": (self.reference if self.reference is not None else Decimal(0)),
            "threshold": self.threshold,
        }
        return REASON_TEXT[self.reason].format(**values) + (
            "  [新 / new]" if self.is_new else ""
        )


@dataclass(frozen=True)
class PartnerWarning:
    partner_id: str
    partner_name: str
    region: str | None
    tier: str
    risk_level: str
    reasons: tuple[WarningReason, ...]

    def alert_keys(self, period: str) -> list[str]:
        return [
            f"churn:{period}:{self.partner_id}:{r.reason}"
            for r in self.reasons
            if r.is_new
        ]

    def line(self) -> str:
        where = ", ".join(x for x in (self.region, self.tier) if x)
        return (
            f"{self.partner_id} {self.partner_name} ({where}) 风险 / risk "
            f"{self.risk_level}: " + "; ".join(r.text() for r in self.reasons)
        )


@dataclass(frozen=True)
class SlaBreach:
    feedback_id: str
    partner_id: str
    partner_name: str
    sla_program: str
    sla_clock: str
    response_hours: Decimal
    elapsed_hours: Decimal
    is_unanswered: bool
    created_at: datetime

    @property
    def alert_key(self) -> str:
        return f"sla:{self.feedback_id}"

    def line(self) -> str:
        clock = (
            "工作小时 / business hours"
            if self.sla_clock == "business"
            else ("自然小时 / calendar hours")
        )
        answer = (
            "仍未回复 / still unanswered"
            if self.is_unanswered
            else f"首次回复用时 {self.elapsed_hours} / first reply after "
            f"{self.elapsed_hours}"
        )
        return (
            f"{self.feedback_id} {self.partner_id} {self.partner_name}: "
            f"{self.created_at:%Y-%m-%d %H:%M} 提交 / opened, {answer} "
            f"({clock}; 时限 / limit {self.response_hours}, "
            f"{self.sla_program})"
        )


@dataclass
class WarningReport:
    """What the nightly run found new for ops in one quarter."""

    period: str
    alert_level: str
    warnings: list[PartnerWarning] = field(default_factory=list)
    breaches: list[SlaBreach] = field(default_factory=list)
    mailed: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.warnings and not self.breaches

    def alert_keys(self) -> list[tuple[str, str, str]]:
        """(key, kind, partner) of everything this report alerts."""
        keys = [
            (key, "churn", w.partner_id)
            for w in self.warnings
            for key in w.alert_keys(self.period)
        ]
        keys += [(b.alert_key, "sla", b.partner_id) for b in self.breaches]
        return keys

    def subject(self) -> str:
        return (
            f"[channelops] 预警 {self.period}: {len(self.warnings)} 家经销商流失"
            f"风险, {len(self.breaches)} 起投诉超时 / new warnings"
        )

    def lines(self) -> list[str]:
        lines = [
            f"新的流失预警(等级 {self.alert_level} 及以上) / new churn "
            f"warnings ({self.alert_level} and above): {len(self.warnings)}"
        ]
        lines += [w.line() for w in self.warnings]
        lines.append(
            f"新的投诉响应超时 / new complaint SLA breaches: {len(self.breaches)}"
        )
        lines += [b.line() for b in self.breaches]
        lines.append(
            "每条预警只提醒一次；完整名单见 marts.fct_churn_risk 与 "
            "marts.fct_complaint_sla / each warning is mailed once; the full "
            "lists are marts.fct_churn_risk and marts.fct_complaint_sla."
        )
        return lines


def new_warnings(warehouse: Warehouse, period: Quarter, timezone: str) -> WarningReport:
    """The quarter's warnings and SLA breaches that ops were not mailed yet.

    ``timezone`` is the operators': the quarter's complaints are those opened
    in it there, and their times are shown there.
    """
    warehouse.execute(ALERTS_DDL)
    alerted = {
        row[0]
        for row in warehouse.query(
            "select alert_key from ops.scorecard_alerts where period = ?",
            (period.label,),
        )
    }
    ((alert_level,),) = warehouse.query(
        "select alert_level from config.warning_settings"
    )
    report = WarningReport(period.label, alert_level)
    report.warnings = _partner_warnings(warehouse, period, alert_level, alerted)
    breaches = _sla_breaches(warehouse, period, ZoneInfo(timezone))
    report.breaches = [b for b in breaches if b.alert_key not in alerted]
    return report


def record_alerted(warehouse: Warehouse, report: WarningReport, run_id: str) -> int:
    """Remember what ``report`` mailed, so no later run mails it again."""
    keys = report.alert_keys()
    now = datetime.now()
    with warehouse.transaction():
        for key, kind, partner_id in keys:
            warehouse.execute(
                "insert into ops.scorecard_alerts values (?, ?, ?, ?, ?, ?)",
                (key, kind, partner_id, report.period, run_id, now),
            )
    return len(keys)


def _partner_warnings(
    warehouse: Warehouse, period: Quarter, alert_level: str, alerted: set[str]
) -> list[PartnerWarning]:
    levels = RISK_LEVELS[RISK_LEVELS.index(alert_level) :]
    placeholders = ", ".join("?" for _ in levels)
    risks = warehouse.query_dicts(
        "select risk.partner_id, partner.partner_name, risk.region, risk.tier, "
        "risk.risk_level from marts.fct_churn_risk as risk "
        "join marts.dim_partners as partner "
        "on partner.partner_id = risk.partner_id "
        "where risk.grain = 'quarter' and risk.period = ? "
        f"and risk.risk_level in ({placeholders}) order by risk.partner_id",
        (period.label, *levels),
    )
    reasons: dict[str, list[dict[str, Any]]] = {}
    for row in warehouse.query_dicts(
        "select partner_id, reason, observed_value, reference_value, "
        "threshold_value from marts.fct_churn_warning_reasons "
        "where grain = 'quarter' and period = ? "
        "order by partner_id, reason_order",
        (period.label,),
    ):
        reasons.setdefault(row["partner_id"], []).append(row)
    warnings = []
    for risk in risks:
        warning = PartnerWarning(
            partner_id=risk["partner_id"],
            partner_name=risk["partner_name"],
            region=risk["region"],
            tier=risk["tier"],
            risk_level=risk["risk_level"],
            reasons=tuple(
                _reason(row, period.label, risk["partner_id"], alerted)
                for row in reasons.get(risk["partner_id"], [])
            ),
        )
        if any(r.is_new for r in warning.reasons):
            warnings.append(warning)
    return warnings


def _reason(
    row: dict[str, Any], period: str, partner_id: str, alerted: set[str]
) -> WarningReason:
    key = f"churn:{period}:{partner_id}:{row['reason']}"
    return WarningReason(
        reason=row["reason"],
        observed=_decimal(row["observed_value"]),
        reference=_decimal(row["reference_value"]),
        threshold=_decimal(row["threshold_value"]),
        is_new=key not in alerted,
    )


def _sla_breaches(
    warehouse: Warehouse, period: Quarter, zone: ZoneInfo
) -> Iterable[SlaBreach]:
    rows = warehouse.query_dicts(
        "select sla.feedback_id, sla.partner_id, partner.partner_name, "
        "sla.sla_program, sla.sla_clock, sla.response_hours, sla.elapsed_hours, "
        "sla.is_unanswered, sla.created_at from marts.fct_complaint_sla as sla "
        "join marts.dim_partners as partner "
        "on partner.partner_id = sla.partner_id "
        "where sla.is_breached and sla.created_at >= ? "
        "and sla.created_at < ? order by sla.created_at, sla.feedback_id",
        (
            _utc(datetime.combine(period.first_day, time(), zone)),
            _utc(datetime.combine(period.next().first_day, time(), zone)),
        ),
    )
    for row in rows:
        yield SlaBreach(
            feedback_id=row["feedback_id"],
            partner_id=row["partner_id"],
            partner_name=row["partner_name"],
            sla_program=row["sla_program"],
            sla_clock=row["sla_clock"],
            response_hours=Decimal(row["response_hours"]),
            elapsed_hours=Decimal(row["elapsed_hours"]),
            is_unanswered=bool(row["is_unanswered"]),
            created_at=row["created_at"].replace(tzinfo=UTC).astimezone(zone),
        )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))

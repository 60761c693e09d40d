"""Scorecard e-mails: each partner's own scorecard for a month or quarter.

``scorecard_documents`` reads the scorecard marts into one JSON-ready
document per partner: its metrics with the points, weights, floors and caps
dbt scored them with (``marts.fct_partner_scorecard_points``), its own score
trend over the latest periods, its rank (turned into a band when rendered)
and the rules used, the missing-metric policy included. Nothing in a
document describes another partner. ``scorecard_from_document`` turns a
stored document into what the templates read. The outbox queues and sends
them (``channelops.outbox``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from channelops.errors import ChannelopsError
from channelops.warehouse import Warehouse
from notifications.documents import (
    Language,
    MetricResult,
    PartnerScorecard,
    TrendPoint,
)
from notifications.formatting import format_plain

# Periods in the trend, the scorecard's own included: two years of quarters.
TREND_PERIODS = 8
_QUARTER = re.compile(r"\d{4}Q[1-4]")
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
PERCENT_METRICS = frozenset(
    {
        "sales_growth_qoq",
        "sales_growth_yoy",
        "target_attainment",
        "collection_ratio",
        "return_rate",
        "sla_breach_rate",
    }
)
# The mart holding a period's scorecards: quarters, or months.
QUARTERLY_MART = "marts.fct_partner_scorecard"
MONTHLY_MART = "marts.fct_partner_scorecard_monthly"
# Each metric's value, points and the rule applied, per partner and period.
POINTS_MART = "marts.fct_partner_scorecard_points"
_POINT_COLUMNS = (
    "partner_id",
    "metric",
    "label_zh",
    "label_en",
    "weight",
    "is_higher_better",
    "metric_value",
    "metric_points",
    "applied_floor_value",
    "applied_cap_value",
)
_RULE_TEXT: dict[Language, dict[bool, str]] = {
    "zh-CN": {
        True: "{floor} 及以下记 0 分，{cap} 及以上记 100 分，之间按比例；越高越好",
        False: "{floor} 及以下记 100 分，{cap} 及以上记 0 分，之间按比例；越低越好",
    },
    "en": {
        True: "{floor} or less scores 0, {cap} or more scores 100, linear in "
        "between; higher is better",
        False: "{floor} or less scores 100, {cap} or more scores 0, linear in "
        "between; lower is better",
    },
}
_TIER_TEXT: dict[Language, tuple[str, str]] = {
    "zh-CN": ("{label}：{score} 分及以上", "{label}：其余"),
    "en": ("{label}: {score} points or more", "{label}: all others"),
}


def scorecard_documents(warehouse: Warehouse, period: str) -> list[dict[str, Any]]:
    """One document per partner scored (or listed) in ``period``.

    The metrics come from ``marts.fct_partner_scorecard_points`` as dbt
    scored them: value, points, weight and the floor and cap applied in this
    period, so the points and rules mailed are the ones that made the score.
    """
    if _QUARTER.fullmatch(period):
        mart, grain, same_kind = QUARTERLY_MART, "quarter", "____Q_"
    elif _MONTH.fullmatch(period):
        mart, grain, same_kind = MONTHLY_MART, "month", "____-__"
    else:
        raise ChannelopsError(
            f"scorecard period must be a quarter like '2026Q3' or a month like "
            f"'2026-09', received {period!r}"
        )
    ((missing_metrics, min_metrics),) = warehouse.query(
        "select missing_metrics, min_metrics from config.scorecard_settings"
    )
    tiers = warehouse.query_dicts(
        "select tier, label_zh, label_en, min_score from config.scorecard_tiers "
        "order by min_score desc nulls last"
    )
    rows = warehouse.query_dicts(
        "select s.partner_id, p.partner_name, s.score, s.tier, s.tier_label_zh, "
        "s.tier_label_en, s.score_rank, s.scored_partner_count "
        f"from {mart} as s "
        "join marts.dim_partners as p on p.partner_id = s.partner_id "
        "where s.period = ? order by s.partner_id",
        (period,),
    )
    metrics: dict[str, list[dict[str, Any]]] = {}
    for point in warehouse.query_dicts(
        f"select {', '.join(_POINT_COLUMNS)} from {POINTS_MART} "
        "where grain = ? and period = ? order by partner_id, weight desc, metric",
        (grain, period),
    ):
        metrics.setdefault(point["partner_id"], []).append(_metric(point))
    history: dict[str, list[dict[str, Any]]] = {}
    for partner_id, earlier, score in warehouse.query(
        f"select partner_id, period, score from {mart} "
        "where period <= ? and period like ? order by partner_id, period",
        (period, same_kind),
    ):
        history.setdefault(partner_id, []).append({"period": earlier, "score": score})
    return [
        {
            "kind": "scorecard",
            "period": period,
            "partner": {
                "partner_id": row["partner_id"],
                "partner_name": row["partner_name"],
            },
            "score": row["score"],
            "tier": row["tier"],
            "tier_label_zh": row["tier_label_zh"],
            "tier_label_en": row["tier_label_en"],
            "rank": row["score_rank"],
            "scored_partner_count": row["scored_partner_count"],
            "metrics": metrics.get(row["partner_id"], []),
            "missing_metrics": missing_metrics,
            "min_metrics": min_metrics,
            "trend": history.get(row["partner_id"], [])[-TREND_PERIODS:],
            "tiers": tiers,
        }
        for row in rows
    ]


def _metric(point: dict[str, Any]) -> dict[str, Any]:
    return {
        "metric": point["metric"],
        "label_zh": point["label_zh"],
        "label_en": point["label_en"],
        "weight": point["weight"],
        "value": point["metric_value"],
        "points": point["metric_points"],
        "higher_is_better": point["is_higher_better"],
        "floor": point["applied_floor_value"],
        "cap": point["applied_cap_value"],
    }


def scorecard_from_document(
    document: dict[str, Any], *, content_hash: str, language: Language
) -> PartnerScorecard:
    """What the scorecard templates read, in the recipient's language."""
    label = "label_zh" if language == "zh-CN" else "label_en"
    tier_label = "tier_label_zh" if language == "zh-CN" else "tier_label_en"
    return PartnerScorecard(
        partner_id=document["partner"]["partner_id"],
        partner_name=document["partner"]["partner_name"],
        period=document["period"],
        score=_decimal(document["score"]),
        tier=document[tier_label] or document["tier"] or "—",
        rank=document["rank"],
        partner_count=document["scored_partner_count"] or 0,
        metrics=tuple(
            MetricResult(
                name=m["metric"],
                label=m[label],
                value=format_metric(m["metric"], _decimal(m["value"])),
                weight=Decimal(m["weight"]),
                points=_decimal(m["points"]),
                rule=_RULE_TEXT[language][bool(m["higher_is_better"])].format(
                    floor=format_metric(m["metric"], Decimal(m["floor"])),
                    cap=format_metric(m["metric"], Decimal(m["cap"])),
                ),
            )
            for m in document["metrics"]
        ),
        trend=tuple(
            TrendPoint(point["period"], _decimal(point["score"]))
            for point in document["trend"]
        ),
        tier_rules=tuple(_tier_rule(tier, language) for tier in document["tiers"]),
        content_hash=content_hash,
        # Documents queued before the policy was stored in them carry
        # neither rule; their e-mail leaves the sentence out, not guessed.
        missing_metrics=document.get("missing_metrics"),
        min_metrics=document.get("min_metrics"),
    )


def _tier_rule(tier: dict[str, Any], language: Language) -> str:
    label = tier["label_zh"] if language == "zh-CN" else tier["label_en"]
    with_score, others = _TIER_TEXT[language]
    if tier["min_score"] is None or Decimal(tier["min_score"]) == 0:
        return others.format(label=label)
    return with_score.format(
        label=label, score=format_plain(Decimal(tier["min_score"]))
    )


def format_metric(metric: str, value: Decimal | None) -> str:
    """A metric value as a partner reads it: percentages, amounts, counts.

    Half up to a tenth of a percent, to the cent, or to two places (a
    month's share of a quarterly cap on a count, such as 4 / 3, is 1.33).
    """
    if value is None:
        return "—"
    if metric in PERCENT_METRICS:
        percent = (value * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return f"{format_plain(percent)}%"
    if metric == "net_sales":
        return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,}"
    return format_plain(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))

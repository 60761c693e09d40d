"""Scorecard e-mails: each partner's own scorecard for a month or quarter.

``scorecard_documents`` reads the scorecard mart and the scorecard rules into
one JSON-ready document per partner: its metrics with their points, its own
score trend over the latest periods, its rank (turned into a band when
rendered) and the rules used. Nothing in a document describes another
partner. ``scorecard_from_document`` turns a stored document into what the
templates read. The outbox queues and sends them (``channelops.outbox``).
"""

from __future__ import annotations

import re
from decimal import Decimal
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
    """One document per partner scored (or listed) in ``period``."""
    if _QUARTER.fullmatch(period):
        mart, same_kind = QUARTERLY_MART, "____Q_"
    elif _MONTH.fullmatch(period):
        mart, same_kind = MONTHLY_MART, "____-__"
    else:
        raise ChannelopsError(
            f"scorecard period must be a quarter like '2026Q3' or a month like "
            f"'2026-09', received {period!r}"
        )
    rules = warehouse.query_dicts(
        "select metric, label_zh, label_en, weight, is_higher_better, "
        "floor_value, cap_value from config.scorecard_metrics "
        "order by weight desc, metric"
    )
    tiers = warehouse.query_dicts(
        "select tier, label_zh, label_en, min_score from config.scorecard_tiers "
        "order by min_score desc nulls last"
    )
    metric_columns = ", ".join(f"s.{rule['metric']}" for rule in rules)
    rows = warehouse.query_dicts(
        "select s.partner_id, p.partner_name, s.score, s.tier, s.tier_label_zh, "
        f"s.tier_label_en, s.score_rank, s.scored_partner_count, {metric_columns} "
        f"from {mart} as s "
        "join marts.dim_partners as p on p.partner_id = s.partner_id "
        "where s.period = ? order by s.partner_id",
        (period,),
    )
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
            "metrics": [_metric(rule, row[rule["metric"]]) for rule in rules],
            "trend": history.get(row["partner_id"], [])[-TREND_PERIODS:],
            "tiers": tiers,
        }
        for row in rows
    ]


def _metric(rule: dict[str, Any], value: Decimal | None) -> dict[str, Any]:
    return {
        "metric": rule["metric"],
        "label_zh": rule["label_zh"],
        "label_en": rule["label_en"],
        "weight": rule["weight"],
        "value": value,
        "points": metric_points(
            value, rule["floor_value"], rule["cap_value"], rule["is_higher_better"]
        ),
        "higher_is_better": rule["is_higher_better"],
        "floor": rule["floor_value"],
        "cap": rule["cap_value"],
    }


def metric_points(
    value: Decimal | None, floor: Decimal, cap: Decimal, higher_is_better: bool
) -> Decimal | None:
    """0-100 points, linear between floor and cap, clamped.

    The same rule as the dbt macro ``metric_points`` that makes the score;
    tests/channelops/test_scorecard_mail.py checks the two agree.
    """
    if value is None:
        return None
    share = (value - floor) / (cap - floor)
    if not higher_is_better:
        share = 1 - share
    return min(max(share, Decimal(0)), Decimal(1)) * 100


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
    """A metric value as a partner reads it: percentages, amounts, counts."""
    if value is None:
        return "—"
    if metric in PERCENT_METRICS:
        return f"{format_plain((value * 100).quantize(Decimal('0.1')))}%"
    if metric == "net_sales":
        return f"{value.quantize(Decimal('0.01')):,}"
    return format_plain(value)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))

"""Build the quarterly channel-meeting pack from the published statements.

Every figure about a partner (net sales, rebate, score, tier, rank, the
previous quarter's tier and sales) comes from the same published snapshot
the partners were mailed: the latest version of each partner's statement
under ``published/<period>/``. What statements do not carry comes from the
warehouse: the churn list from the churn-risk marts (``marts.fct_churn_risk``
and ``marts.fct_churn_warning_reasons``) and the campaigns' return on spend
from ``marts.fct_campaign_roi``, the same marts the nightly warnings and the
scorecards use.

The pack's snapshot is a hash of everything it shows: the statement
versions it was built from and every figure, row and label in it, the mart
rows included. A later rebuild of the marts that changes a churn reason or a
campaign's return is a new snapshot, mailed once as the next version; one
that changes nothing shown keeps the snapshot, and the files are not
written again. The files land in ``reports/meeting/<period>/``, named with
the snapshot.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from channelops.early_warning import RISK_LEVELS, WarningReason
from channelops.errors import ChannelopsError
from channelops.outbox import (
    QueueReport,
    SendReport,
    queue_meeting_pack,
    send_pending,
)
from channelops.periods import Quarter
from channelops.publish import canonical_json
from channelops.settings import Settings
from channelops.warehouse import Warehouse
from notifications.documents import Language
from notifications.meeting_pack import (
    CampaignResult,
    ChurnRisk,
    MeetingPack,
    PartnerResult,
    ProgramTotal,
    render_meeting_pack,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackReport:
    period: str
    partner_count: int
    # html, xlsx, pdf
    files: tuple[Path, ...]
    snapshot: str
    language: Language
    currency: str
    rebate: Decimal
    programs: tuple[ProgramTotal, ...]


@dataclass(frozen=True)
class PackMailReport:
    pack: PackReport
    queued: QueueReport
    send: SendReport


def mail_meeting_pack(
    settings: Settings, warehouse: Warehouse, period: Quarter, language: Language
) -> PackMailReport:
    """Write the pack, then mail it to the ops address once per snapshot.

    ``channelops meeting-pack --mail`` and the meeting_pack flow both call
    this. A rerun over the same published statements rewrites the same bytes
    and mails nothing; a pack that failed to send is retried.
    """
    pack = write_meeting_pack(settings, warehouse, period, language)
    queued = queue_meeting_pack(
        settings, warehouse, period.label, pack.snapshot, pack.files[0], language
    )
    send = send_pending(settings, warehouse, period=period.label, kind="meeting_pack")
    return PackMailReport(pack, queued, send)


def write_meeting_pack(
    settings: Settings, warehouse: Warehouse, period: Quarter, language: Language
) -> PackReport:
    """Write the pack's HTML, XLSX and PDF; the same snapshot gives the same bytes."""
    pack = build_meeting_pack(settings, warehouse, period, language)
    folder = settings.reports_dir / "meeting" / period.label
    stem = f"meeting_pack_{period.label}_{pack.snapshot}_{language}"
    paths = tuple(folder / f"{stem}.{suffix}" for suffix in PACK_SUFFIXES)
    if all(path.is_file() for path in paths):
        logger.info(
            "The %s meeting pack of snapshot %s is already in %s; not rewritten",
            period.label,
            pack.snapshot,
            folder,
        )
    else:
        _write_pack_files(pack, language, paths)
        logger.info(
            "Wrote the %s meeting pack for %d partner(s), rebates %s %s, to %s",
            period.label,
            len(pack.partners),
            pack.rebate,
            pack.currency,
            folder,
        )
    return PackReport(
        period.label,
        len(pack.partners),
        paths,
        pack.snapshot,
        language,
        pack.currency,
        pack.rebate,
        pack.programs,
    )


# The pack's files, in the order PackReport.files lists them.
PACK_SUFFIXES = ("html", "xlsx", "pdf")


def _write_pack_files(
    pack: MeetingPack, language: Language, paths: tuple[Path, ...]
) -> None:
    files = render_meeting_pack(pack, language)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    for path, data in zip(
        paths, (files.html.encode("utf-8"), files.xlsx, files.pdf), strict=True
    ):
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(data)
        temporary.replace(path)


def build_meeting_pack(
    settings: Settings, warehouse: Warehouse, period: Quarter, language: Language
) -> MeetingPack:
    """The pack's figures, with the snapshot that hashes all of them."""
    current = latest_statements(settings.published_dir / period.label)
    if not current:
        raise ChannelopsError(
            f"no published statements for {period.label} under "
            f"{settings.published_dir / period.label}; settle the quarter "
            "first (channelops settle --period ...), then build the pack"
        )
    previous = latest_statements(settings.published_dir / period.previous().label)
    documents = {
        partner: published["document"] for partner, (_, published) in current.items()
    }
    partners = tuple(
        _partner(version, doc, previous.get(partner), language)
        for partner, (version, doc) in sorted(current.items())
    )
    level, churn = _churn(warehouse, period)
    currencies = {doc["currency"] for doc in documents.values()}
    if len(currencies) != 1:
        raise ChannelopsError(
            f"{period.label} statements use several currencies {sorted(currencies)}; "
            "a meeting pack adds amounts of one currency only"
        )
    pack = MeetingPack(
        period=period.label,
        currency=currencies.pop(),
        partners=partners,
        programs=_programs(documents),
        campaigns=_campaigns(warehouse, period),
        churn=churn,
        churn_level=level,
        snapshot="",
    )
    return replace(pack, snapshot=_snapshot(current, previous, pack))


Published = dict[str, tuple[int, dict[str, Any]]]


def latest_statements(folder: Path) -> Published:
    """Each partner's latest published version under one period's folder."""
    latest: Published = {}
    for path in sorted(folder.glob("*/v*.json")):
        published = json.loads(path.read_text(encoding="utf-8"))
        partner = published["document"]["partner"]["partner_id"]
        if partner not in latest or published["version"] > latest[partner][0]:
            latest[partner] = (published["version"], published)
    return latest


def _partner(
    version: int,
    published: dict[str, Any],
    previous: tuple[int, dict[str, Any]] | None,
    language: Language,
) -> PartnerResult:
    document = published["document"]
    card = document.get("scorecard") or {}
    before = previous[1]["document"] if previous is not None else None
    before_card = (before or {}).get("scorecard") or {}
    return PartnerResult(
        partner_id=document["partner"]["partner_id"],
        partner_name=document["partner"]["partner_name"],
        region=document["partner"].get("region"),
        version=version,
        net_sales=Decimal(document["net_sales"]),
        rebate=Decimal(document["total_amount"]),
        score=None if card.get("score") is None else Decimal(card["score"]),
        tier=_tier(card, language),
        rank=card.get("rank"),
        previous_tier=_tier(before_card, language),
        previous_net_sales=None if before is None else Decimal(before["net_sales"]),
    )


def _tier(card: dict[str, Any], language: Language) -> str | None:
    label = card.get("tier_label_zh" if language == "zh-CN" else "tier_label_en")
    return label or card.get("tier")


def _programs(documents: dict[str, dict[str, Any]]) -> tuple[ProgramTotal, ...]:
    """Rebate totals per program, and per component of a combined program.

    A combined program's lines are named "program · component"; summing them
    under the program id alone would print the first component's name over
    the whole program's total.
    """
    totals: dict[tuple[str, str], tuple[str, set[str], Decimal]] = {}
    for partner, document in documents.items():
        for line in document["lines"]:
            key = (line["program_id"], line.get("component_id") or "")
            name, partners, amount = totals.get(
                key, (line["program_name"], set(), Decimal("0.00"))
            )
            partners.add(partner)
            totals[key] = (name, partners, amount + Decimal(line["amount"]))
    return tuple(
        ProgramTotal(program, name, len(partners), amount)
        for (program, _), (name, partners, amount) in sorted(totals.items())
    )


def _campaigns(warehouse: Warehouse, period: Quarter) -> tuple[CampaignResult, ...]:
    """The quarter's campaigns (by start date) from the campaign ROI mart."""
    rows = warehouse.query(
        "select activity_id, coalesce(activity_name, activity_id), partner_count, "
        "spend_amount, incremental_sales, return_on_spend, measured_through_date, "
        "is_window_complete "
        "from marts.fct_campaign_roi where start_date between ? and ? "
        "order by activity_id",
        (period.first_day, period.last_day),
    )
    return tuple(
        CampaignResult(
            activity_id=activity,
            activity_name=name,
            partner_count=int(partners),
            cost=Decimal(spend),
            sales_increase=Decimal(increase),
            roi=None if roi is None else Decimal(roi),
            measured_through=through,
            is_window_complete=bool(complete),
        )
        for activity, name, partners, spend, increase, roi, through, complete in rows
    )


def _churn(warehouse: Warehouse, period: Quarter) -> tuple[str, tuple[ChurnRisk, ...]]:
    """Partners at the ops alert level or above, highest risk first, with reasons."""
    ((level,),) = warehouse.query("select alert_level from config.warning_settings")
    levels = RISK_LEVELS[RISK_LEVELS.index(level) :]
    placeholders = ", ".join("?" for _ in levels)
    risks = warehouse.query(
        "select risk.partner_id, partner.partner_name, risk.risk_level "
        "from marts.fct_churn_risk as risk "
        "join marts.dim_partners as partner on partner.partner_id = risk.partner_id "
        "where risk.grain = 'quarter' and risk.period = ? "
        f"and risk.risk_level in ({placeholders}) order by risk.partner_id",
        (period.label, *levels),
    )
    reasons: dict[str, list[str]] = {}
    for partner_id, reason, observed, reference, threshold in warehouse.query(
        "select partner_id, reason, observed_value, reference_value, "
        "threshold_value from marts.fct_churn_warning_reasons "
        "where grain = 'quarter' and period = ? order by partner_id, reason_order",
        (period.label,),
    ):
        reasons.setdefault(partner_id, []).append(
            WarningReason(reason, observed, reference, threshold, is_new=False).text()
        )
    found = [
        ChurnRisk(partner_id, name, risk, tuple(reasons.get(partner_id, ())))
        for partner_id, name, risk in risks
    ]
    found.sort(key=lambda c: (-RISK_LEVELS.index(c.risk_level), c.partner_id))
    return level, tuple(found)


def _snapshot(current: Published, previous: Published, pack: MeetingPack) -> str:
    """A hash of the statement versions read and of every figure the pack shows."""
    versions = {
        quarter: [
            f"{partner}:v{version}:{published['content_hash']}"
            for partner, (version, published) in sorted(statements.items())
        ]
        for quarter, statements in (("current", current), ("previous", previous))
    }
    shown = canonical_json({"statements": versions, "pack": asdict(pack)})
    return hashlib.sha256(shown).hexdigest()[:12]

"""The quarterly channel-meeting pack for channel managers: HTML, XLSX and PDF.

One ``MeetingPack`` (KPIs, ranking, tier moves, rebate totals per program,
campaign ROI, the churn-risk list) renders into three files that show the
same strings: an HTML report (Jinja2, autoescaped), a workbook (xlsxwriter,
byte-stable; amounts as exact numbers) and a PDF (typst, Chinese font
embedded). Unlike partner mail it shows every partner: it is for internal
use and is never sent to a partner.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import xlsxwriter

from notifications.documents import Language
from notifications.formatting import format_money, format_percent, period_label
from notifications.pdf import Report, Section, render_pdf
from notifications.workbook import AMOUNT_FORMAT, CREATED, exact_float


@dataclass(frozen=True)
class PartnerResult:
    """One partner's line in the pack, from its latest published statement."""

    partner_id: str
    partner_name: str
    region: str | None
    version: int
    net_sales: Decimal
    rebate: Decimal
    score: Decimal | None
    tier: str | None
    rank: int | None
    previous_tier: str | None
    previous_net_sales: Decimal | None

    @property
    def sales_change(self) -> Decimal | None:
        """Net sales against the previous quarter, as a fraction; None if unknown."""
        if not self.previous_net_sales:
            return None
        return (self.net_sales - self.previous_net_sales) / self.previous_net_sales


@dataclass(frozen=True)
class ProgramTotal:
    program_id: str
    program_name: str
    partner_count: int
    amount: Decimal


@dataclass(frozen=True)
class CampaignResult:
    """A campaign's spend, incremental sales and return on spend (the ROI mart)."""

    activity_id: str
    activity_name: str
    partner_count: int
    cost: Decimal
    sales_increase: Decimal
    # Incremental sales / spend; None without a spend or a measured day.
    roi: Decimal | None
    # The last day counted; before the window's end while it is still open.
    measured_through: date
    is_window_complete: bool


@dataclass(frozen=True)
class ChurnRisk:
    """A partner at churn risk with the reasons (the churn-risk marts)."""

    partner_id: str
    partner_name: str
    risk_level: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MeetingPack:
    period: str
    currency: str
    partners: tuple[PartnerResult, ...]
    programs: tuple[ProgramTotal, ...]
    campaigns: tuple[CampaignResult, ...]
    # Partners at this risk level or above, highest risk first.
    churn: tuple[ChurnRisk, ...]
    churn_level: str
    snapshot: str

    @property
    def ranking(self) -> tuple[PartnerResult, ...]:
        ranked = [p for p in self.partners if p.rank is not None]
        return tuple(sorted(ranked, key=lambda p: (p.rank, p.partner_id)))

    @property
    def tier_moves(self) -> tuple[PartnerResult, ...]:
        return tuple(
            p
            for p in self.partners
            if p.previous_tier is not None and p.tier != p.previous_tier
        )

    @property
    def net_sales(self) -> Decimal:
        return sum((p.net_sales for p in self.partners), Decimal("0.00"))

    @property
    def rebate(self) -> Decimal:
        return sum((p.rebate for p in self.partners), Decimal("0.00"))


@dataclass(frozen=True)
class PackFiles:
    html: str
    xlsx: bytes
    pdf: bytes


_TEXT: dict[Language, dict[str, Any]] = {
    "zh-CN": {
        "title": "渠道季度会议资料",
        "kpis": "关键指标",
        "kpi_rows": ("合作伙伴数", "净销售额合计", "返利合计", "返利占净销售额"),
        "ranking": "评分排名",
        "ranking_cols": ("排名", "合作伙伴", "区域", "综合得分", "等级", "净销售额"),
        "moves": "等级变动",
        "moves_cols": ("合作伙伴", "上季度等级", "本季度等级"),
        "programs": "返利项目合计",
        "programs_cols": ("返利项目", "合作伙伴数", "返利金额"),
        "campaigns": "市场活动投入产出",
        "campaigns_cols": (
            "活动",
            "统计截至",
            "参与伙伴数",
            "费用",
            "增量销售额",
            "投入产出比",
        ),
        "churn": "流失风险名单（{level} 及以上）",
        "churn_cols": ("合作伙伴", "风险等级", "原因"),
        "none": "无",
        "roi_note": "投入产出比 = 活动期间高于基线的增量销售额 ÷ 活动费用。",
        "window_open": "{date}（窗口未结束）",
        "window_note": "窗口未结束：活动或其结束后的归因期超出了现有销售数据，"
        "增量销售额和基线只计到统计截至日，数据补齐后会变化；"
        "尚无一天数据的活动不计投入产出比。",
        "snapshot": "数据来源：已发布结算单快照 {snapshot}（每个合作伙伴取最新版本）。",
        "internal": "内部资料，请勿转发给合作伙伴。",
    },
    "en": {
        "title": "Channel meeting pack",
        "kpis": "Key figures",
        "kpi_rows": ("Partners", "Net sales", "Rebates", "Rebates / net sales"),
        "ranking": "Ranking by score",
        "ranking_cols": ("Rank", "Partner", "Region", "Score", "Tier", "Net sales"),
        "moves": "Tier moves",
        "moves_cols": ("Partner", "Last quarter", "This quarter"),
        "programs": "Rebates by program",
        "programs_cols": ("Program", "Partners", "Rebate"),
        "campaigns": "Campaign ROI",
        "campaigns_cols": (
            "Campaign",
            "Measured through",
            "Partners",
            "Cost",
            "Incremental sales",
            "ROI",
        ),
        "churn": "Churn-risk list ({level} and above)",
        "churn_cols": ("Partner", "Risk", "Reasons"),
        "none": "none",
        "roi_note": "ROI = sales in the campaign window above the baseline "
        "÷ campaign cost.",
        "window_open": "{date} (window still open)",
        "window_note": "Window still open: the campaign, or the attribution "
        "days after it, run past the last date with sales data, so its "
        "incremental sales and baseline count the days up to the date shown "
        "and will change as data arrives; a campaign with no day in the data "
        "yet has no ROI.",
        "snapshot": "Source: published statement snapshot {snapshot} (latest "
        "version per partner).",
        "internal": "Internal: do not forward to partners.",
    },
}


def render_meeting_pack(pack: MeetingPack, language: Language) -> PackFiles:
    """The pack as HTML, XLSX and PDF; the same pack gives the same bytes."""
    sections = _sections(pack, language)
    text = _TEXT[language]
    title = f"{text['title']} {period_label(pack.period, language)}"
    is_window_open = any(not c.is_window_complete for c in pack.campaigns)
    notes = (
        text["roi_note"],
        *((text["window_note"],) if is_window_open else ()),
        text["snapshot"].format(snapshot=pack.snapshot),
        text["internal"],
    )
    report = Report(
        title=title,
        subtitle=text["internal"],
        language=language,
        author="channelops",
        summary=tuple(zip(text["kpi_rows"], _kpis(pack), strict=True)),
        sections=tuple(section for section, _, _ in sections),
        notes=notes,
        footer=title,
    )
    return PackFiles(
        html=_html(report),
        xlsx=_workbook(sections, title),
        pdf=render_pdf(report),
    )


def _kpis(pack: MeetingPack) -> tuple[str, ...]:
    share = pack.rebate / pack.net_sales if pack.net_sales else Decimal(0)
    return (
        str(len(pack.partners)),
        format_money(pack.net_sales, pack.currency),
        format_money(pack.rebate, pack.currency),
        format_percent(share.quantize(Decimal("0.0001"))),
    )


# Each section with its raw values per row, for the workbook's numbers.
_Rows = list[tuple[Any, ...]]
_Sheet = tuple[Section, _Rows, set[int]]
# Ratios (ROI, sales change) in the workbook: four places, exact in a float.
RATIO = Decimal("0.0001")


def _sections(pack: MeetingPack, language: Language) -> list[_Sheet]:
    text = _TEXT[language]
    money = pack.currency

    def labelled(name: str, code: str) -> str:
        # Names repeat (two campaigns, a program's components); ids do not.
        return f"{name}（{code}）"

    def name(p: PartnerResult) -> str:
        return labelled(p.partner_name, p.partner_id)

    def score(value: Decimal | None) -> str:
        return "—" if value is None else f"{value:f}"

    def campaign(c: CampaignResult) -> str:
        return labelled(c.activity_name, c.activity_id)

    def measured(c: CampaignResult) -> str:
        through = c.measured_through.isoformat()
        if c.is_window_complete:
            return through
        return str(text["window_open"].format(date=through))

    ranking = [
        (str(p.rank), name(p), p.region or "—", score(p.score), p.tier or "—",
         format_money(p.net_sales, money))
        for p in pack.ranking
    ]  # fmt: skip
    moves = [(name(p), p.previous_tier or "—", p.tier or "—") for p in pack.tier_moves]
    programs = [
        (labelled(t.program_name, t.program_id), str(t.partner_count),
         format_money(t.amount, money))
        for t in pack.programs
    ]  # fmt: skip
    campaigns = [
        (campaign(c), measured(c), str(c.partner_count),
         format_money(c.cost, money), format_money(c.sales_increase, money),
         "—" if c.roi is None else f"{c.roi.quantize(Decimal('0.01')):f}")
        for c in pack.campaigns
    ]  # fmt: skip
    churn = [
        (labelled(c.partner_name, c.partner_id), c.risk_level, "；".join(c.reasons))
        for c in pack.churn
    ]
    raw: dict[str, _Rows] = {
        "ranking": [
            (p.rank, name(p), p.region, p.score, p.tier, p.net_sales)
            for p in pack.ranking
        ],
        "moves": moves,
        "programs": [
            (labelled(t.program_name, t.program_id), t.partner_count, t.amount)
            for t in pack.programs
        ],
        "campaigns": [
            (
                campaign(c),
                measured(c),
                c.partner_count,
                c.cost,
                c.sales_increase,
                None if c.roi is None else c.roi.quantize(RATIO),
            )
            for c in pack.campaigns
        ],
        "churn": churn,
    }
    # Per section: right-aligned columns, and the columns holding money.
    layout: tuple[tuple[str, _Rows, tuple[bool, ...], set[int]], ...] = (
        ("ranking", ranking, (False, False, False, True, False, True), {5}),
        ("moves", moves, (False, False, False), set()),
        ("programs", programs, (False, True, True), {2}),
        ("campaigns", campaigns, (False, False, True, True, True, True), {3, 4}),
        ("churn", churn, (False, False, False), set()),
    )
    sections: list[_Sheet] = []
    for key, rows, numeric, money_columns in layout:
        title = text[key].format(level=pack.churn_level)
        columns = text[f"{key}_cols"]
        shown = rows or [(text["none"], *("",) * (len(columns) - 1))]
        section = Section(
            title=title,
            columns=columns,
            rows=tuple(tuple(row) for row in shown),
            numeric=numeric,
        )
        sections.append((section, raw[key], money_columns))
    return sections


def _html(report: Report) -> str:
    from notifications.render import render_template

    return render_template(
        "meeting_pack.html", {"report": report, "lang": report.language}
    )


def _workbook(sections: list[_Sheet], title: str) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties({"title": title, "created": CREATED})
    bold = workbook.add_format({"bold": True})
    amount = workbook.add_format({"num_format": AMOUNT_FORMAT})
    for index, (section, rows, money_columns) in enumerate(sections, start=1):
        # Sheet names: at most 31 characters, unique; the title is in A1.
        sheet = workbook.add_worksheet(f"{index} {section.title}"[:31])
        sheet.write_string(0, 0, section.title, bold)
        for column, label in enumerate(section.columns):
            sheet.write_string(1, column, label, bold)
            sheet.set_column(column, column, 18 if column else 32)
        for row_number, row in enumerate(rows, start=2):
            for column, value in enumerate(row):
                style = amount if column in money_columns else None
                _write_cell(sheet, row_number, column, value, style)
    workbook.close()
    return buffer.getvalue()


def _write_cell(sheet: Any, row: int, column: int, value: Any, style: Any) -> None:
    if value is None:
        sheet.write_blank(row, column, None)
    elif isinstance(value, Decimal):
        number = exact_float(value, f"meeting pack cell {row + 1},{column + 1}")
        sheet.write_number(row, column, number, style)
    elif isinstance(value, int):
        sheet.write_number(row, column, value)
    else:
        sheet.write_string(row, column, str(value))

"""The channel-meeting pack, built from a published snapshot on real DuckDB."""

from __future__ import annotations

import email
import email.policy
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest

from channelops.meeting_pack import (
    _programs,
    build_meeting_pack,
    mail_meeting_pack,
    write_meeting_pack,
)
from channelops.periods import Quarter
from channelops.settings import Settings, load_settings
from channelops.warehouse import Warehouse
from notifications.meeting_pack import render_meeting_pack
from notifications.sink import MailSink

Q3 = Quarter.parse("2026Q3")
# partner: (name, Q2 net sales, Q2 tier, Q3 net sales, Q3 tier, score, rank)
PARTNERS = {
    "P0001": (
        "杭州恒达商贸有限公司",
        "100000.00",
        "成长",
        "150000.00",
        "核心",
        "80.50",
        1,
    ),
    "P0002": (
        "苏州瑞丰贸易有限公司",
        "200000.00",
        "核心",
        "120000.00",
        "成长",
        "60.00",
        2,
    ),
    "P0003": (
        "合肥佳美贸易有限公司",
        "50000.00",
        "普通",
        "52000.00",
        "普通",
        "30.25",
        3,
    ),
}
REBATES = {"P0001": "4500.00", "P0002": "2400.00", "P0003": "520.00"}


def document(partner: str, period: str, sales: str, tier: str, **card: Any) -> dict:
    name = PARTNERS[partner][0]
    rebate = REBATES[partner] if period == "2026Q3" else "1.00"
    return {
        "period": period,
        "partner": {"partner_id": partner, "partner_name": name, "region": "华东"},
        "currency": "CNY",
        "net_sales": sales,
        "lines": [{"program_id": "RB-Q", "program_name": "季度返利", "amount": rebate}],
        "total_amount": rebate,
        "scorecard": {
            "tier": tier,
            "tier_label_zh": tier,
            "tier_label_en": tier,
            **card,
        },
    }


def publish(settings: Settings, document: dict, version: int = 1) -> None:
    partner = document["partner"]["partner_id"]
    path = settings.published_dir / document["period"] / partner / f"v{version}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "version": version,
                "content_hash": f"{partner}{version}",
                "document": document,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )


@pytest.fixture
def settings() -> Settings:
    settings = load_settings()
    publish_quarters(settings)
    return settings


def publish_quarters(settings: Settings) -> None:
    """Q2 and Q3 statements of the three partners, P0003's Q3 corrected."""
    for partner, (_, q2, q2_tier, q3, q3_tier, score, rank) in PARTNERS.items():
        publish(settings, document(partner, "2026Q2", q2, q2_tier, score="1", rank=1))
        publish(
            settings, document(partner, "2026Q3", q3, q3_tier, score=score, rank=rank)
        )
    # A corrected P0003: the pack must take the latest version.
    publish(
        settings,
        document("P0003", "2026Q3", "52000.00", "普通", score="30.25", rank=3),
        version=2,
    )


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[Warehouse]:
    with Warehouse(settings) as warehouse:
        write_marts(warehouse)
        yield warehouse


def write_marts(warehouse: Warehouse) -> None:
    """The marts the pack reads besides the statements, as dbt names them."""
    for schema in ("marts", "config"):
        warehouse.execute(f"create schema {schema}")
    warehouse.execute("create table config.warning_settings (alert_level varchar)")
    warehouse.execute("insert into config.warning_settings values ('medium')")
    warehouse.execute(
        "create table marts.dim_partners (partner_id varchar, partner_name varchar)"
    )
    for partner, (name, *_) in PARTNERS.items():
        warehouse.execute(
            "insert into marts.dim_partners values (?, ?)", (partner, name)
        )
    warehouse.execute(
        "create table marts.fct_churn_risk (partner_id varchar, grain varchar, "
        "period varchar, risk_level varchar)"
    )
    # P0003 is high risk, P0002 medium, P0001 low (below the alert level);
    # P0002 was high the quarter before and monthly, which must not count.
    warehouse.execute(
        "insert into marts.fct_churn_risk values "
        "('P0001', 'quarter', '2026Q3', 'low'), "
        "('P0002', 'quarter', '2026Q3', 'medium'), "
        "('P0003', 'quarter', '2026Q3', 'high'), "
        "('P0001', 'quarter', '2026Q2', 'high'), "
        "('P0001', 'month', '2026-09', 'high')"
    )
    warehouse.execute(
        "create table marts.fct_churn_warning_reasons (partner_id varchar, "
        "grain varchar, period varchar, reason varchar, reason_order integer, "
        "observed_value decimal(18,4), reference_value decimal(18,4), "
        "threshold_value decimal(18,4))"
    )
    warehouse.execute(
        "insert into marts.fct_churn_warning_reasons values "
        "('P0003', 'quarter', '2026Q3', 'order_gap', 1, 60, 12, 36), "
        "('P0003', 'quarter', '2026Q3', 'sla_breaches', 5, 2, 3, 1), "
        "('P0002', 'quarter', '2026Q3', 'run_rate_down', 2, -0.40, 0, -0.30)"
    )
    warehouse.execute(
        "create table marts.fct_campaign_roi (activity_id varchar, "
        "activity_name varchar, start_date date, partner_count integer, "
        "spend_amount decimal(18,2), incremental_sales decimal(18,2), "
        "return_on_spend decimal(18,4), measured_through_date date, "
        "is_window_complete boolean)"
    )
    # C2 shares C1's name, and its window runs past the data (30 September).
    warehouse.execute(
        "insert into marts.fct_campaign_roi values "
        "('C1', '秋季联合推广', '2026-08-01', 2, 15000.00, 52000.00, 3.4667, "
        "'2026-09-14', true), "
        "('C2', '秋季联合推广', '2026-09-20', 1, 3000.00, -500.00, -0.1667, "
        "'2026-09-30', false), "
        "('C0', '上季度活动', '2026-05-01', 1, 900.00, 100.00, 0.1111, "
        "'2026-06-14', true)"
    )


def test_pack_ranks_moves_totals_and_lists_churn_risks_from_the_marts(
    settings: Settings, warehouse: Warehouse
) -> None:
    pack = build_meeting_pack(settings, warehouse, Q3, "zh-CN")

    assert [p.partner_id for p in pack.ranking] == ["P0001", "P0002", "P0003"]
    assert {p.partner_id: (p.previous_tier, p.tier) for p in pack.tier_moves} == {
        "P0001": ("成长", "核心"),
        "P0002": ("核心", "成长"),
    }
    assert [(c.partner_id, c.risk_level) for c in pack.churn] == [
        ("P0003", "high"),
        ("P0002", "medium"),
    ]
    assert pack.churn[0].reasons[0].startswith("距上次下单 60 天")
    assert len(pack.churn[0].reasons) == 2
    assert pack.churn[1].reasons == (
        "日均销售同比 -40% / daily run-rate -40% year on year",
    )
    (program,) = pack.programs
    assert (program.partner_count, program.amount) == (3, Decimal("7420.00"))
    assert pack.rebate == Decimal("7420.00")
    assert {p.partner_id: p.version for p in pack.partners}["P0003"] == 2
    # Only the quarter's campaigns, with the mart's figures as they are.
    campaign, still_open = pack.campaigns
    assert (campaign.activity_id, campaign.partner_count) == ("C1", 2)
    assert (campaign.cost, campaign.sales_increase, campaign.roi) == (
        Decimal("15000.00"),
        Decimal("52000.00"),
        Decimal("3.4667"),
    )
    assert (campaign.measured_through, campaign.is_window_complete) == (
        date(2026, 9, 14),
        True,
    )
    assert (still_open.activity_id, still_open.is_window_complete) == ("C2", False)


def test_pack_files_agree_and_are_byte_identical_on_rebuild(
    settings: Settings, warehouse: Warehouse
) -> None:
    first = write_meeting_pack(settings, warehouse, Q3, "zh-CN")
    contents = [path.read_bytes() for path in first.files]
    second = write_meeting_pack(settings, warehouse, Q3, "zh-CN")

    assert [path.read_bytes() for path in second.files] == contents
    html, xlsx, pdf = contents
    assert "杭州恒达商贸有限公司（P0001）" in html.decode("utf-8")
    assert "¥7,420.00" in html.decode("utf-8")
    assert "窗口未结束：活动或其结束后的归因期" in html.decode("utf-8")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "苏州瑞丰贸易有限公司" in text and "¥7,420.00" in text
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)
    programs = list(workbook.worksheets[2].iter_rows(values_only=True))
    campaigns = list(workbook.worksheets[3].iter_rows(values_only=True))
    churn = list(workbook.worksheets[4].iter_rows(values_only=True))
    workbook.close()
    assert programs[2] == ("季度返利（RB-Q）", 3, 7420)
    assert [row[:2] for row in campaigns[2:]] == [
        ("秋季联合推广（C1）", "2026-09-14"),
        ("秋季联合推广（C2）", "2026-09-30（窗口未结束）"),
    ]
    assert churn[0][0] == "流失风险名单（medium 及以上）"
    assert [row[:2] for row in churn[2:]] == [
        ("合肥佳美贸易有限公司（P0003）", "high"),
        ("苏州瑞丰贸易有限公司（P0002）", "medium"),
    ]


def test_campaigns_sharing_a_name_show_their_ids_and_an_open_window_is_marked(
    settings: Settings, warehouse: Warehouse
) -> None:
    pack = build_meeting_pack(settings, warehouse, Q3, "en")

    html = render_meeting_pack(pack, "en").html
    closed = render_meeting_pack(replace(pack, campaigns=pack.campaigns[:1]), "en")

    assert "秋季联合推广（C1）" in html and "秋季联合推广（C2）" in html
    assert "2026-09-30 (window still open)" in html
    assert "2026-09-14 (window still open)" not in html
    assert "Window still open: the campaign" in html
    assert "Window still open" not in closed.html


def test_pack_without_published_statements_says_what_to_do(
    warehouse: Warehouse, settings: Settings
) -> None:
    with pytest.raises(Exception, match="settle the quarter first"):
        build_meeting_pack(settings, warehouse, Quarter.parse("2025Q1"), "en")


@pytest.fixture
def relay(
    warehouse: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MailSink]:
    """A real SMTP server the settings send to, and the outbox's schema."""
    warehouse.execute("create schema ops")
    with MailSink(tmp_path / "received") as sink:
        monkeypatch.setenv("CHANNELOPS_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("CHANNELOPS_SMTP_PORT", str(sink.port))
        yield sink


def test_pack_is_mailed_to_ops_once_per_snapshot_with_its_files(
    warehouse: Warehouse, relay: MailSink
) -> None:
    settings = load_settings()
    first = mail_meeting_pack(settings, warehouse, Q3, "zh-CN")
    again = mail_meeting_pack(settings, warehouse, Q3, "zh-CN")
    # A corrected statement is a new snapshot: the pack goes out once more.
    publish(
        settings,
        document("P0002", "2026Q3", "121000.00", "成长", score="60.00", rank=2),
        version=2,
    )
    corrected = mail_meeting_pack(settings, warehouse, Q3, "zh-CN")
    messages = [
        email.message_from_bytes(m.path.read_bytes(), policy=email.policy.default)
        for m in relay.messages
    ]

    assert (first.send.sent, again.queued.queued, again.send.sent) == (1, 0, 0)
    assert corrected.send.sent == 1 and corrected.pack.snapshot != first.pack.snapshot
    assert [m["To"] for m in messages] == [settings.ops_email] * 2
    assert [str(m["Subject"]) for m in messages] == [
        "【渠道会议资料】2026Q3 第 1 版",
        "【渠道会议资料】2026Q3 第 2 版",
    ]
    assert isinstance(messages[0], EmailMessage)
    names = [part.get_filename() for part in messages[0].iter_attachments()]
    assert names == [first.pack.files[1].name, first.pack.files[2].name]


def test_a_changed_mart_figure_is_a_new_snapshot_mailed_once(
    warehouse: Warehouse, relay: MailSink
) -> None:
    settings = load_settings()
    first = mail_meeting_pack(settings, warehouse, Q3, "zh-CN")
    # A rebuild of the marts: the campaign's return and a churn reason
    # change, the published statements do not.
    warehouse.execute(
        "update marts.fct_campaign_roi set incremental_sales = 60000.00, "
        "return_on_spend = 4.0000 where activity_id = 'C1'"
    )
    roi_changed = mail_meeting_pack(settings, warehouse, Q3, "zh-CN")
    warehouse.execute(
        "update marts.fct_churn_warning_reasons set observed_value = 75 "
        "where partner_id = 'P0003' and reason = 'order_gap'"
    )
    churn_changed = mail_meeting_pack(settings, warehouse, Q3, "zh-CN")
    again = mail_meeting_pack(settings, warehouse, Q3, "zh-CN")
    messages = [
        email.message_from_bytes(m.path.read_bytes(), policy=email.policy.default)
        for m in relay.messages
    ]

    snapshots = [r.pack.snapshot for r in (first, roi_changed, churn_changed)]
    assert len(set(snapshots)) == 3 and again.pack.snapshot == snapshots[-1]
    assert [r.send.sent for r in (first, roi_changed, churn_changed, again)] == [
        1,
        1,
        1,
        0,
    ]
    assert [str(m["Subject"]) for m in messages] == [
        f"【渠道会议资料】2026Q3 第 {n} 版" for n in (1, 2, 3)
    ]
    assert "¥60,000.00" in roi_changed.pack.files[0].read_text(encoding="utf-8")
    assert "距上次下单 75 天" in churn_changed.pack.files[0].read_text(encoding="utf-8")
    # Each snapshot keeps its own files: what v1 mailed is still on disk.
    assert "¥60,000.00" not in first.pack.files[0].read_text(encoding="utf-8")


def test_an_unchanged_pack_is_not_written_again(
    settings: Settings, warehouse: Warehouse
) -> None:
    first = write_meeting_pack(settings, warehouse, Q3, "zh-CN")
    files = [path.stat() for path in first.files]

    second = write_meeting_pack(settings, warehouse, Q3, "zh-CN")

    assert second.files == first.files
    # Written files are replaced by a rename, which gives them a new inode.
    assert [path.stat().st_ino for path in second.files] == [f.st_ino for f in files]
    assert [path.stat().st_size for path in second.files] == [f.st_size for f in files]


def test_a_combined_programs_components_are_totalled_under_their_own_names() -> None:
    def line(program: str, name: str, amount: str, component: str | None = None):
        row = {"program_id": program, "program_name": name, "amount": amount}
        if component is not None:
            row["component_id"] = component
        return row

    documents = {
        "P001": {
            "lines": [
                line("triple", "三重激励 · 销量返利", "100.00", "volume"),
                line("triple", "三重激励 · 增长奖励", "40.00", "growth"),
                line("volume", "季度销量返利", "10.00"),
            ]
        },
        "P002": {"lines": [line("triple", "三重激励 · 销量返利", "60.00", "volume")]},
    }

    totals = {(t.program_name, t.partner_count, t.amount) for t in _programs(documents)}

    assert totals == {
        ("三重激励 · 销量返利", 2, Decimal("160.00")),
        ("三重激励 · 增长奖励", 1, Decimal("40.00")),
        ("季度销量返利", 1, Decimal("10.00")),
    }

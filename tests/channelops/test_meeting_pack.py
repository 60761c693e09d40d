"""The channel-meeting pack, built from a published snapshot on real DuckDB."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openpyxl
import pypdf
import pytest

from channelops.meeting_pack import build_meeting_pack, write_meeting_pack
from channelops.periods import Quarter
from channelops.settings import Settings, load_settings
from channelops.warehouse import Warehouse

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
    return settings


@pytest.fixture
def warehouse(settings: Settings) -> Iterator[Warehouse]:
    with Warehouse(settings) as warehouse:
        warehouse.execute("create schema staging")
        warehouse.execute(
            "create table staging.stg_channel__activities (activity_id varchar, "
            "partner_id varchar, activity_name varchar, cost_amount decimal(18,2), "
            "start_date date)"
        )
        warehouse.execute(
            "insert into staging.stg_channel__activities values "
            "('C1', 'P0001', '秋季联合推广', 10000.00, '2026-08-01'), "
            "('C1', 'P0003', '秋季联合推广', 5000.00, '2026-08-01'), "
            "('C0', 'P0002', '上季度活动', 900.00, '2026-05-01')"
        )
        yield warehouse


def test_pack_ranks_moves_totals_and_lists_decliners_from_the_snapshot(
    settings: Settings, warehouse: Warehouse
) -> None:
    pack = build_meeting_pack(settings, warehouse, Q3, "zh-CN")

    assert [p.partner_id for p in pack.ranking] == ["P0001", "P0002", "P0003"]
    assert {p.partner_id: (p.previous_tier, p.tier) for p in pack.tier_moves} == {
        "P0001": ("成长", "核心"),
        "P0002": ("核心", "成长"),
    }
    assert [p.partner_id for p in pack.declining] == ["P0002"]
    (program,) = pack.programs
    assert (program.partner_count, program.amount) == (3, Decimal("7420.00"))
    assert pack.rebate == Decimal("7420.00")
    assert {p.partner_id: p.version for p in pack.partners}["P0003"] == 2
    (campaign,) = pack.campaigns
    # (150000 - 100000) + (52000 - 50000) over a cost of 15000.
    assert campaign.sales_increase == Decimal("52000.00")
    assert campaign.roi is not None
    assert campaign.roi.quantize(Decimal("0.01")) == Decimal("3.47")


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
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "苏州瑞丰贸易有限公司" in text and "¥7,420.00" in text
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx), read_only=True)
    programs = list(workbook.worksheets[2].iter_rows(values_only=True))
    workbook.close()
    assert programs[2] == ("季度返利（RB-Q）", 3, 7420)


def test_pack_without_published_statements_says_what_to_do(
    warehouse: Warehouse, settings: Settings
) -> None:
    with pytest.raises(Exception, match="settle the quarter first"):
        build_meeting_pack(settings, warehouse, Quarter.parse("2025Q1"), "en")

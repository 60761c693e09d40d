"""Each message type's HTML rendered by headless Chromium; screenshots are kept.

The screenshots land in ``test-output/screenshots/`` (one PNG per message
type and language) for a person to look at; the test checks that Chromium
rendered the page and that the Chinese text took up real glyphs. Chromium is
the Debian package ``chromium``; ``make test`` installs it when run as root.
Chromium finds the CJK font through a private fontconfig file pointing at the
same Noto Sans CJK SC file the PDFs embed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from notifications.documents import OutgoingMessage, Recipient
from notifications.meeting_pack import (
    CampaignResult,
    ChurnRisk,
    MeetingPack,
    PartnerResult,
    ProgramTotal,
    render_meeting_pack,
)
from notifications.pdf import cjk_font_path
from notifications.render import (
    render_ops_alert,
    render_scorecard_message,
    render_statement_message,
)
from tests.conftest import REPO
from tests.notifications.samples import (
    contact,
    corrected_statement,
    message_id,
    scorecard,
    statement,
)

SCREENSHOTS = REPO / "test-output" / "screenshots"
WINDOW = (900, 1400)
BROWSER_SECONDS = 90
# A page with a few lines of text darkens more than this share of its pixels;
# a blank page stays at 0.
INK_SHARE = 0.001

FONTS_CONF = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{folder}</dir>
  <cachedir>{cache}</cachedir>
  <selectfont><acceptfont><glob>{font}</glob></acceptfont>
  <rejectfont><glob>{folder}/*</glob></rejectfont></selectfont>
</fontconfig>
"""


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.skip(
            "chromium is not installed: `make test` installs the Debian package "
            "with apt-get when run as root; install it to run the screenshots"
        )
    home = tmp_path_factory.mktemp("chromium")
    font = cjk_font_path()
    conf = home / "fonts.conf"
    conf.write_text(
        FONTS_CONF.format(folder=font.parent, font=font, cache=home / "fc-cache"),
        encoding="utf-8",
    )
    os.environ["FONTCONFIG_FILE"] = str(conf)
    try:
        yield [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={home / 'profile'}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
        ]
    finally:
        del os.environ["FONTCONFIG_FILE"]


def screenshot(
    command: list[str], name: str, html: str, images: dict[str, bytes]
) -> Path:
    page_dir = SCREENSHOTS / name
    page_dir.mkdir(parents=True, exist_ok=True)
    for cid, content in images.items():
        (page_dir / f"{cid}.png").write_bytes(content)
        html = html.replace(f"cid:{cid}", f"{cid}.png")
    page = page_dir / "message.html"
    page.write_text(html, encoding="utf-8")
    shot = SCREENSHOTS / f"{name}.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [*command, f"--screenshot={shot}", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=BROWSER_SECONDS,
    )
    return shot


def ink(path: Path) -> float:
    with Image.open(path) as image:
        grey = image.convert("L")
        dark = sum(count for level, count in enumerate(grey.histogram()) if level < 128)
        return dark / (grey.width * grey.height)


def message_html(message: OutgoingMessage) -> tuple[str, dict[str, bytes]]:
    return message.html, {image.cid: image.content for image in message.inline_images}


def meeting_pack_html() -> str:
    partner = PartnerResult(
        "P0001", "杭州恒达商贸有限公司", "华东", 1, Decimal("150000.00"),
        Decimal("4500.00"), Decimal("80.5"), "核心", 1, "成长", Decimal("100000.00"),
    )  # fmt: skip
    pack = MeetingPack(
        period="2026Q3",
        currency="CNY",
        partners=(partner,),
        programs=(ProgramTotal("RB-Q", "季度返利", 1, Decimal("4500.00")),),
        campaigns=(
            CampaignResult(
                "C1",
                "秋季联合推广",
                1,
                Decimal("1000.00"),
                Decimal("50000.00"),
                Decimal("50.0000"),
                date(2026, 9, 30),
                False,
            ),
        ),
        churn=(
            ChurnRisk(
                "P0001",
                "杭州恒达商贸有限公司",
                "high",
                ("距上次下单 60 天，通常间隔 12.0 天 / 60 days since the last order",),
            ),
        ),
        churn_level="medium",
        snapshot="0123456789ab",
    )
    return render_meeting_pack(pack, "zh-CN").html


def pages() -> dict[str, tuple[str, dict[str, bytes]]]:
    def statement_page(
        language: str, **changes: object
    ) -> tuple[str, dict[str, bytes]]:
        return message_html(
            render_statement_message(
                statement(**changes) if changes else statement(),
                (contact(language),),
                key="k",
                message_id=message_id("k"),
            )
        )

    corrected = render_statement_message(
        corrected_statement(), (contact(),), key="k", message_id=message_id("k")
    )
    alert = render_ops_alert(
        "【告警】2026Q3 数据质量闸门未通过",
        ["3 项检查失败：销售明细金额为负", "处理后重新运行 quarterly-settlement"],
        key="a",
        message_id=message_id("a"),
        to=(Recipient("ops@example.com", None, "zh-CN"),),
    )
    return {
        "statement_zh-CN": statement_page("zh-CN"),
        "statement_en": statement_page("en"),
        "statement_corrected_zh-CN": message_html(corrected),
        "scorecard_zh-CN": message_html(
            render_scorecard_message(
                scorecard(), (contact(),), key="s", message_id=message_id("s")
            )
        ),
        "scorecard_en": message_html(
            render_scorecard_message(
                scorecard(), (contact("en"),), key="s", message_id=message_id("s")
            )
        ),
        "ops_alert": message_html(alert),
        "meeting_pack_zh-CN": (meeting_pack_html(), {}),
    }


@pytest.mark.parametrize("name", sorted(pages()))
def test_message_html_should_render_in_headless_chromium(
    chromium: list[str], name: str
) -> None:
    html, images = pages()[name]

    shot = screenshot(chromium, name, html, images)

    with Image.open(shot) as image:
        assert image.size == WINDOW
    assert ink(shot) > INK_SHARE, f"{shot} looks blank"

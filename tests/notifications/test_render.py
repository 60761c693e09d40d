"""Statement and alert messages render in the partner's language, escaped."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from notifications.documents import DocumentError, Recipient, StatementLine
from notifications.render import render_ops_alert, render_statement_message
from tests.notifications.samples import (
    PARTNER_COUNT,
    contact,
    message_id,
    statement,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


def render_zh(**changes: object) -> tuple[str, str, str]:
    message = render_statement_message(
        statement(**changes), (contact("zh-CN"),), key="k", message_id=message_id("k")
    )
    return message.subject, message.html, message.text


def render_en(**changes: object) -> tuple[str, str, str]:
    message = render_statement_message(
        statement(**changes), (contact("en"),), key="k", message_id=message_id("k")
    )
    return message.subject, message.html, message.text


def test_zh_statement_subject_should_name_partner_quarter_and_version() -> None:
    subject, _, _ = render_zh()

    assert subject == "【返利结算单】杭州恒达商贸有限公司 2026年第3季度 (v1)"


def test_zh_statement_should_greet_the_contact_and_show_the_partner() -> None:
    _, html, text = render_zh()

    for body in (html, text):
        assert "尊敬的王经理：" in body
        assert "杭州恒达商贸有限公司（合作伙伴编号 P0001）" in body
        assert "2026年第3季度" in body


def test_zh_statement_should_print_amounts_with_separators_and_two_places() -> None:
    _, html, text = render_zh()

    for body in (html, text):
        assert "本期净销售额：¥52,318,904.55" in body
        assert "¥1,234,567.80" in body
        assert "¥49,382,712.00" in body
        assert "2.5%" in body
        assert "¥1,279,317.80" in body


def test_zh_statement_should_explain_rounding_and_quote_the_content_hash() -> None:
    _, html, text = render_zh()

    for body in (html, text):
        assert "金额按每行四舍五入至分（0.01），返利合计为各行所列金额之和。" in body
        assert "sha256:" + "ab" * 32 in body


def test_en_statement_should_be_english_apart_from_names() -> None:
    subject, html, text = render_en()

    assert subject == "Rebate statement — 杭州恒达商贸有限公司 — 2026 Q3 (v1)"
    assert text.startswith("Dear Ms. Wang,\n")
    assert "Rebate total: ¥1,279,317.80" in text
    assert "rounded half-up to the fen (0.01)" in text
    assert "Score: 86.5; tier: A; rank: top 10% of partners" in text
    names = {"杭州恒达商贸有限公司", "年度采购返利", "新品推广奖励", "回款及时奖励"}
    rules = {line.rule for line in statement().lines}
    leftover = text
    for name in names | rules:
        leftover = leftover.replace(name, "")
    assert CJK.findall(leftover) == []
    assert '<html lang="en">' in html


def test_statement_without_contact_name_should_greet_the_partner() -> None:
    nameless = Recipient("finance@hengda.example.cn", None, "zh-CN")
    message = render_statement_message(
        statement(), (nameless,), key="k", message_id=message_id("k")
    )

    assert message.text.startswith("尊敬的合作伙伴：")


def test_second_version_should_say_it_corrects_the_earlier_one_with_deltas() -> None:
    subject, html, text = render_zh(version=2)
    _, _, en_text = render_en(version=2)

    assert subject.endswith("(v2)")
    assert "本结算单（v2）更正此前发送的版本：以下只列出变动的差额" in html
    assert "本结算单（v2）更正此前发送的版本：以下只列出变动的差额" in text
    assert "corrects the version sent earlier: it lists only what changed" in en_text


def test_first_version_should_not_mention_a_replacement() -> None:
    _, html, text = render_zh()

    assert "更正" not in html and "更正" not in text


def test_scorecard_should_show_band_and_weights_but_not_the_field_size() -> None:
    _, html, text = render_zh()

    assert "综合得分：86.5；等级：A；排名区间：前 10%" in text
    assert "- 销售增长：权重 40%，本期数值 18.2%" in text
    assert "<td>回款及时率</td>" in html
    assert str(PARTNER_COUNT) not in html + text


def test_statement_without_scorecard_should_leave_the_section_out() -> None:
    _, html, text = render_zh(scorecard=None)

    assert "渠道评分卡" not in html and "渠道评分卡" not in text


def test_partner_name_with_markup_should_be_escaped_in_html_only() -> None:
    name = '<script>alert("x")</script>恒达'
    subject, html, text = render_zh(partner_name=name)

    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;恒达" in html
    assert name in text
    assert name in subject


def test_statement_without_recipients_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="at least one recipient"):
        render_statement_message(statement(), (), key="k", message_id=message_id("k"))


def test_rendering_twice_should_give_identical_messages() -> None:
    first = render_statement_message(
        statement(), (contact(),), key="k", message_id=message_id("k")
    )
    second = render_statement_message(
        statement(), (contact(),), key="k", message_id=message_id("k")
    )

    assert first == second
    assert first.attachments[0].content == second.attachments[0].content


def test_ops_alert_should_list_lines_escaped_in_html_and_plain_in_text() -> None:
    lines = ["gate failed: 3 checks", "row <42> amount '1,234,5' is not a number"]

    alert = render_ops_alert(
        "【告警】2026Q3 数据质量闸门未通过",
        lines,
        key="alert:2026Q3",
        message_id=message_id("alert:2026Q3"),
        to=(Recipient("channel-ops@example.com", None, "zh-CN"),),
    )

    assert alert.subject == "【告警】2026Q3 数据质量闸门未通过"
    assert alert.text.splitlines()[2:] == lines
    assert (
        "<li>row &lt;42&gt; amount &#39;1,234,5&#39; is not a number</li>" in alert.html
    )
    assert alert.attachments == ()


def test_a_per_unit_line_should_print_its_amount_per_unit_and_its_explanation() -> None:
    line = StatementLine(
        line_no=1,
        program_id="accessories_per_unit",
        program_name="配件耗材按件返利",
        rule="按件返利",
        basis_amount=Decimal("12788.12"),
        tier="前500件",
        rate=Decimal("2.125000"),
        amount=Decimal("182.00"),
        source_line_count=2,
        explanation="累计期：本季; 累计基数 85.647; 来源明细 2 行",
        source_line_ids=("SO1-1", "SO2-4"),
        rate_is_per_unit=True,
    )

    _, html, text = render_zh(lines=(line,), total=Decimal("182.00"))

    for body in (html, text):
        assert "2.125 CNY/件" in body
        assert "212.5%" not in body
        assert "累计基数 85.647; 来源明细 2 行" in body

"""The scorecard e-mail: own figures only, the chart inline, what to improve."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from notifications.documents import DocumentError, MetricResult, TrendPoint
from notifications.mailer import deliver
from notifications.render import render_scorecard_message
from notifications.sink import MailSink
from tests.notifications.samples import (
    PARTNER_COUNT,
    PARTNER_NAME,
    Outcomes,
    config_for,
    contact,
    message_id,
    read_eml,
    scorecard,
)


def render(language: str = "zh-CN", **changes: object):  # type: ignore[no-untyped-def]
    return render_scorecard_message(
        scorecard(**changes), (contact(language),), key="k", message_id=message_id("k")
    )


def test_weakest_two_should_be_the_fewest_points_ignoring_unscored_metrics() -> None:
    assert [m.name for m in scorecard().weakest()] == ["activity_count", "return_rate"]


def test_weakest_on_equal_points_should_name_the_heavier_metric_first() -> None:
    tied = (
        MetricResult("a", "A", "1", Decimal("0.1"), Decimal("10"), "r"),
        MetricResult("b", "B", "1", Decimal("0.3"), Decimal("10"), "r"),
    )
    assert [m.name for m in scorecard(metrics=tied).weakest()] == ["b", "a"]


def test_zh_scorecard_should_show_score_tier_band_rules_and_what_to_improve() -> None:
    message = render()

    assert message.subject == f"【渠道评分卡】{PARTNER_NAME} 2026年第3季度"
    assert "综合得分：72.35；等级：成长；排名区间：前 10%" in message.text
    assert "- 2026年第1季度：未评分" in message.text
    assert "1. 市场活动参与次数：本期 1，得分 25（权重 10%）" in message.text
    assert "2. 退货率：本期 6%，得分 40（权重 10%）" in message.text
    assert "规则：0% 及以下记 100 分，10% 及以上记 0 分" in message.text
    assert "- 核心：75 分及以上" in message.text
    assert "<li>成长：50 分及以上</li>" in message.html


def test_zh_scorecard_should_state_the_reweight_policy_and_the_minimum() -> None:
    message = render(min_metrics=5)

    assert "- 缺少数据的指标不计，其余指标的权重按比例放大至合计 100%。" in message.text
    assert "<li>有数据的指标少于 5 项时不评分（数据不足）。</li>" in message.html
    assert "记 0 分，权重不变" not in message.text + message.html
    assert "月度评分卡" not in message.text


def test_zh_scorecard_should_state_the_zero_policy_when_configured() -> None:
    message = render(missing_metrics="zero")

    assert "- 缺少数据的指标记 0 分，权重不变。" in message.text
    assert "<li>缺少数据的指标记 0 分，权重不变。</li>" in message.html
    assert "权重按比例放大" not in message.text + message.html
    assert "- 有数据的指标少于 4 项时不评分（数据不足）。" in message.text


def test_en_scorecard_should_state_either_policy_and_the_minimum() -> None:
    zero = render("en", missing_metrics="zero", min_metrics=3)
    reweight = render("en")

    assert "- A metric without data scores 0 points at its full weight." in zero.text
    assert "<li>A metric without data scores 0 points" in zero.html
    assert "left out" not in zero.text + zero.html
    assert "fewer than 3 metrics with data there is no score" in zero.text
    assert "- Metrics without data are left out and the weights" in reweight.text
    assert "<li>Metrics without data are left out" in reweight.html
    assert "0 points at its full weight" not in reweight.text + reweight.html
    assert "fewer than 4 metrics with data" in reweight.html


def test_a_monthly_scorecard_should_say_volumes_are_rated_against_a_third() -> None:
    month = scorecard(period="2026-09", trend=(TrendPoint("2026-09", None),))
    message = render_scorecard_message(
        month, (contact("en"),), key="k", message_id=message_id("k")
    )

    assert "against a third of the quarterly rule" in message.text
    assert "against a third of the quarterly rule" not in render("en").text


def test_a_document_stored_without_the_policy_should_not_guess_one() -> None:
    message = render(missing_metrics=None, min_metrics=None)

    assert "缺少数据的指标" not in message.text + message.html
    assert "项时不评分" not in message.text
    assert "- 各指标按其规则计 0–100 分" in message.text


def test_scorecard_should_never_show_the_rank_or_the_field_size() -> None:
    message = render()

    assert str(PARTNER_COUNT) not in message.html + message.text
    assert "第 5" not in message.text and "rank 5" not in message.text


def test_scorecard_html_should_show_the_trend_chart_by_content_id() -> None:
    message = render()

    (image,) = message.inline_images
    assert f'src="cid:{image.cid}"' in message.html
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert render().inline_images[0].content == image.content


def test_scorecard_without_any_scored_period_should_leave_the_chart_out() -> None:
    message = render(score=None, trend=(TrendPoint("2026Q3", None),), rank=None)

    assert message.inline_images == ()
    assert "cid:" not in message.html
    assert "数据不足，暂不评分" in message.text


def test_en_scorecard_should_be_english() -> None:
    message = render("en")

    assert message.subject == f"Partner scorecard: {PARTNER_NAME} 2026 Q3"
    assert "What to improve first:" in message.text
    assert "rank: top 10% of partners" in message.text


def test_a_trend_not_ending_with_the_period_should_be_refused() -> None:
    with pytest.raises(DocumentError, match="trend must end"):
        scorecard(trend=(TrendPoint("2026Q2", Decimal("1")),))


def test_delivered_scorecard_should_carry_the_chart_as_a_related_inline_part(
    outbox: Path,
) -> None:
    message = render()

    with MailSink(outbox) as sink:
        outcomes = Outcomes()
        deliver(
            [message],
            config_for(sink),
            on_sent=outcomes.on_sent,
            on_failed=outcomes.on_failed,
        )
        (sunk,) = sink.messages
    received = read_eml(sunk.path)

    assert received.get_content_type() == "multipart/related"
    alternative, image = received.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert image["Content-ID"] == f"<{message.inline_images[0].cid}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == message.inline_images[0].content
    assert received["Subject"] == message.subject
    html = received.get_body(preferencelist=("html",))
    assert html is not None and html.get_content() == message.html

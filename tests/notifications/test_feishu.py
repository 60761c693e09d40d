"""Feishu bot alerts against a real local HTTP server that checks signatures."""

from __future__ import annotations

import logging

import pytest

from notifications.feishu import FeishuConfig, FeishuError, post_alert, sign
from tests.notifications.feishu_server import SECRET, TOKEN, feishu_bot


def test_sign_should_be_the_hmac_of_nothing_keyed_by_timestamp_and_secret() -> None:
    # Worked by hand with openssl: printf '' | openssl dgst -sha256 -hmac
    # "$(printf '1599360473\ntest')" -binary | base64
    assert sign(1599360473, "test") == "NVcdmaRhTlOqmXksontxmKEP4AYWAMD5VOczwSqarks="


def test_signed_alert_should_be_accepted_with_title_and_lines() -> None:
    with feishu_bot() as bot:
        post_alert(
            FeishuConfig(bot.url, SECRET),
            "【告警】2026Q3 闸门未通过",
            ["3 项检查失败", "见 Data Docs"],
        )

    (body,) = bot.received
    assert body["msg_type"] == "post"
    post = body["content"]["post"]["zh_cn"]
    assert post["title"] == "【告警】2026Q3 闸门未通过"
    assert [row[0]["text"] for row in post["content"]] == [
        "3 项检查失败",
        "见 Data Docs",
    ]


def test_alert_with_a_wrong_secret_should_be_refused_without_leaking_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with feishu_bot() as bot, pytest.raises(FeishuError, match="19021") as raised:
        post_alert(FeishuConfig(bot.url, "not-the-secret"), "t", ["x"])

    assert bot.received == []
    for text in (str(raised.value), caplog.text, repr(FeishuConfig(bot.url, SECRET))):
        assert TOKEN not in text and SECRET not in text and "not-the-secret" not in text


def test_alert_to_an_unsigned_bot_should_carry_no_signature() -> None:
    with feishu_bot(secret=None) as bot:
        post_alert(FeishuConfig(bot.url), "t", ["x"])

    (body,) = bot.received
    assert "sign" not in body and "timestamp" not in body


def test_alert_to_a_stopped_bot_should_fail_without_naming_the_url() -> None:
    with feishu_bot() as bot:
        url = bot.url

    with pytest.raises(FeishuError, match="unreachable") as raised:
        post_alert(FeishuConfig(url, SECRET, timeout_seconds=2), "t", ["x"])
    assert TOKEN not in str(raised.value)

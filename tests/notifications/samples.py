"""Sample statements, recipients and helpers shared by the notification tests."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from notifications.documents import (
    LineChange,
    MetricResult,
    OutgoingMessage,
    PartnerScorecard,
    Recipient,
    ScorecardMetric,
    ScorecardSummary,
    Statement,
    StatementLine,
    TrendPoint,
    VersionChanges,
    message_id_for,
)
from notifications.mailer import SmtpConfig
from notifications.sink import MailSink

PARTNER_NAME = "杭州恒达商贸有限公司"
SENDER_NAME = "渠道运营中心"
SENDER = "channel-ops@example.com"
MAIL_DOMAIN = "channelops.test"
# Deliberately absent from every amount, rate and hash below, so a test can
# show the field size never reaches the partner.
PARTNER_COUNT = 61

LINES = (
    StatementLine(
        line_no=1,
        program_id="RB-2026-01",
        program_name="年度采购返利",
        rule="阶梯返利：季度采购额达到档位后全额适用",
        basis_amount=Decimal("49382712.00"),
        tier="T3",
        rate=Decimal("0.025"),
        amount=Decimal("1234567.80"),
        source_line_count=842,
    ),
    StatementLine(
        line_no=2,
        program_id="RB-2026-07",
        program_name="新品推广奖励",
        rule="固定比例",
        basis_amount=Decimal("1250000.00"),
        tier="—",
        rate=Decimal("0.015"),
        amount=Decimal("18750.00"),
        source_line_count=37,
    ),
    StatementLine(
        line_no=3,
        program_id="RB-2026-09",
        program_name="回款及时奖励",
        rule="按时回款比例不低于 95%",
        basis_amount=Decimal("52000000.00"),
        tier="A",
        rate=Decimal("0.0005"),
        amount=Decimal("26000.00"),
        source_line_count=118,
    ),
)
TOTAL = Decimal("1279317.80")

SCORECARD = ScorecardSummary(
    score=Decimal("86.5"),
    tier="A",
    rank=3,
    partner_count=PARTNER_COUNT,
    metrics=(
        ScorecardMetric(
            "sales_growth_qoq", "销售增长", "Sales growth", "18.2%", Decimal("0.4")
        ),
        ScorecardMetric(
            "collection_ratio",
            "回款及时率",
            "On-time payment",
            "97.3%",
            Decimal("0.35"),
        ),
        ScorecardMetric(
            "data_quality", "数据质量", "Data quality", "99.4%", Decimal("0.25")
        ),
    ),
)


def statement(**changes: Any) -> Statement:
    """The sample zh-CN statement, with any field replaced."""
    base = Statement(
        partner_id="P0001",
        partner_name=PARTNER_NAME,
        period="2026Q3",
        version=1,
        currency="CNY",
        net_sales=Decimal("52318904.55"),
        lines=LINES,
        total=TOTAL,
        content_hash="sha256:" + "ab" * 32,
        scorecard=SCORECARD,
    )
    return dataclasses.replace(base, **changes)


def contact(
    language: str = "zh-CN", email: str = "finance@hengda.example.cn"
) -> Recipient:
    name = "王经理" if language == "zh-CN" else "Ms. Wang"
    return Recipient(email, name, language)  # type: ignore[arg-type]


def message_id(key: str) -> str:
    return message_id_for(key, MAIL_DOMAIN)


def config_for(sink: MailSink, **changes: Any) -> SmtpConfig:
    """Settings that deliver to ``sink`` without login or TLS."""
    values: dict[str, Any] = {
        "host": sink.host,
        "port": sink.port,
        "security": "none",
        "sender": SENDER,
        "sender_name": SENDER_NAME,
        "per_second": 1000.0,
        "timeout_seconds": 10.0,
    }
    values.update(changes)
    return SmtpConfig(**values)


def read_eml(path: Path) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(parsed, EmailMessage)
    return parsed


def stored_messages(sink: MailSink) -> list[EmailMessage]:
    return [read_eml(sunk.path) for sunk in sink.messages]


@dataclasses.dataclass
class Outcomes:
    """Collects deliver()'s callbacks in the order they ran."""

    sent: list[str] = dataclasses.field(default_factory=list)
    failed: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def on_sent(self, message: OutgoingMessage) -> None:
        self.sent.append(message.key)

    def on_failed(self, message: OutgoingMessage, reason: str) -> None:
        self.failed.append((message.key, reason))


CLAWBACK = StatementLine(
    line_no=4,
    program_id="RB-2026-01-CB",
    program_name="退货扣回",
    rule="上期返利对应退货的扣回",
    basis_amount=Decimal("-80000.00"),
    tier="T3",
    rate=Decimal("0.025"),
    amount=Decimal("-2000.00"),
    source_line_count=4,
    kind="clawback",
    explanation="2026年第2季度已结算订单于本季度退货",
)


def corrected_statement() -> Statement:
    """Version 2 of the sample: a clawback added, one program raised."""
    raised = dataclasses.replace(LINES[1], amount=Decimal("19000.00"))
    lines = (LINES[0], raised, LINES[2], CLAWBACK)
    return statement(
        version=2,
        lines=lines,
        total=sum((line.amount for line in lines), Decimal("0.00")),
        changes=VersionChanges(
            previous_version=1,
            previous_total=TOTAL,
            total=sum((line.amount for line in lines), Decimal("0.00")),
            lines=(
                LineChange("RB-2026-01-CB", "退货扣回", None, Decimal("-2000.00")),
                LineChange(
                    "RB-2026-07",
                    "新品推广奖励",
                    Decimal("18750.00"),
                    Decimal("19000.00"),
                ),
            ),
            reason="补录了 9 月的退货单",
        ),
    )


def scorecard(**changes: Any) -> PartnerScorecard:
    """A partner's quarterly scorecard with a gap in its trend."""
    base = PartnerScorecard(
        partner_id="P0001",
        partner_name=PARTNER_NAME,
        period="2026Q3",
        score=Decimal("72.35"),
        tier="成长",
        rank=5,
        partner_count=PARTNER_COUNT,
        metrics=(
            MetricResult(
                "net_sales",
                "季度净销售额",
                "852,000.00",
                Decimal("0.35"),
                Decimal("85.2"),
                "0 及以下记 0 分，1,000,000.00 及以上记 100 分",
            ),
            MetricResult(
                "return_rate",
                "退货率",
                "6%",
                Decimal("0.10"),
                Decimal("40"),
                "0% 及以下记 100 分，10% 及以上记 0 分",
            ),
            MetricResult(
                "activity_count",
                "市场活动参与次数",
                "1",
                Decimal("0.10"),
                Decimal("25"),
                "0 及以下记 0 分，4 及以上记 100 分",
            ),
            MetricResult(
                "sla_breach_rate",
                "投诉24小时未响应率",
                "—",
                Decimal("0.10"),
                None,
                "0% 及以下记 100 分，50% 及以上记 0 分",
            ),
        ),
        trend=(
            TrendPoint("2025Q4", Decimal("60")),
            TrendPoint("2026Q1", None),
            TrendPoint("2026Q2", Decimal("68.5")),
            TrendPoint("2026Q3", Decimal("72.35")),
        ),
        tier_rules=("核心：75 分及以上", "成长：50 分及以上", "普通：其余"),
        content_hash="cd" * 32,
        missing_metrics="reweight",
        min_metrics=4,
    )
    return dataclasses.replace(base, **changes)

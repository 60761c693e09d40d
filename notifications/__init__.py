"""Partner and ops communications: rendered, attached and sent over SMTP.

``documents`` holds the dataclasses the outbox fills in; ``render`` turns a
statement (with its XLSX from ``workbook`` and PDF from ``statement_pdf``),
a scorecard (with its ``chart``) or an ops alert into a message, zh-CN by
default and en on request; ``meeting_pack`` renders the quarterly pack for
channel managers; ``mailer`` sends a batch over one SMTP connection,
``feishu`` posts ops alerts to a Feishu group bot, and ``sink`` is the
embedded SMTP server local runs and tests deliver to, which files every
message as an ``.eml``. See docs/communications.md.
"""

from notifications.documents import (
    Attachment,
    DocumentError,
    InlineImage,
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
from notifications.mailer import DeliveryReport, RefusedRecipient, SmtpConfig, deliver
from notifications.render import (
    render_ops_alert,
    render_scorecard_message,
    render_statement_message,
)
from notifications.sink import MailSink, SunkMessage

__all__ = [
    "Attachment",
    "DeliveryReport",
    "DocumentError",
    "InlineImage",
    "LineChange",
    "MailSink",
    "MetricResult",
    "OutgoingMessage",
    "PartnerScorecard",
    "Recipient",
    "RefusedRecipient",
    "ScorecardMetric",
    "ScorecardSummary",
    "SmtpConfig",
    "Statement",
    "StatementLine",
    "SunkMessage",
    "TrendPoint",
    "VersionChanges",
    "deliver",
    "message_id_for",
    "render_ops_alert",
    "render_scorecard_message",
    "render_statement_message",
]

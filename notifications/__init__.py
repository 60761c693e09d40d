"""Partner mail: rebate statements and ops alerts, rendered and sent over SMTP.

``documents`` holds the dataclasses the settlement stage fills in, ``render``
turns a statement into a message (zh-CN by default, en on request) with its
XLSX, ``mailer`` sends a batch over one SMTP connection with at-least-once
semantics, and ``sink`` is the embedded SMTP server local runs and tests
deliver to, which files every message as an ``.eml``.
"""

from notifications.documents import (
    Attachment,
    DocumentError,
    OutgoingMessage,
    Recipient,
    ScorecardMetric,
    ScorecardSummary,
    Statement,
    StatementLine,
    message_id_for,
)
from notifications.mailer import DeliveryReport, RefusedRecipient, SmtpConfig, deliver
from notifications.render import render_ops_alert, render_statement_message
from notifications.sink import MailSink, SunkMessage

__all__ = [
    "Attachment",
    "DeliveryReport",
    "DocumentError",
    "MailSink",
    "OutgoingMessage",
    "Recipient",
    "RefusedRecipient",
    "ScorecardMetric",
    "ScorecardSummary",
    "SmtpConfig",
    "Statement",
    "StatementLine",
    "SunkMessage",
    "deliver",
    "message_id_for",
    "render_ops_alert",
    "render_statement_message",
]

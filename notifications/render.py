"""Turn statements and ops alerts into messages the mailer can send.

Templates live in ``notifications/templates/<language>/``; HTML templates are
autoescaped, plain-text ones are not, and an undefined variable is an error.
Rendering is pure: the same statement gives the same subject, bodies and
attachment bytes every time. Called by the outbox just before sending, so a
retry renders again from the published document.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications.chart import trend_chart_png
from notifications.documents import (
    DocumentError,
    InlineImage,
    Language,
    OutgoingMessage,
    PartnerScorecard,
    Recipient,
    Statement,
)
from notifications.formatting import (
    format_money,
    format_percent,
    format_plain,
    format_points,
    period_label,
    rank_band,
)
from notifications.statement_pdf import statement_pdf
from notifications.workbook import statement_workbook

logger = logging.getLogger(__name__)


def render_statement_message(
    statement: Statement,
    recipients: tuple[Recipient, ...],
    *,
    key: str,
    message_id: str,
) -> OutgoingMessage:
    """The statement e-mail with XLSX and PDF, in the first recipient's language."""
    if not recipients:
        raise DocumentError(
            f"statement {statement.partner_id} {statement.period}: at least one "
            "recipient is needed to pick the language; received none"
        )
    language = recipients[0].language
    context = _statement_context(statement, recipients[0], language)
    subject = _one_line(_render(f"{language}/statement_subject.txt", context))
    context["subject"] = subject
    message = OutgoingMessage(
        key=key,
        message_id=message_id,
        to=recipients,
        subject=subject,
        html=_render(f"{language}/statement.html", context),
        text=_render(f"{language}/statement.txt", context),
        attachments=(
            statement_workbook(statement, language),
            statement_pdf(statement, language),
        ),
    )
    logger.debug(
        "rendered statement %s %s v%d in %s",
        statement.partner_id,
        statement.period,
        statement.version,
        language,
    )
    return message


def render_scorecard_message(
    card: PartnerScorecard,
    recipients: tuple[Recipient, ...],
    *,
    key: str,
    message_id: str,
) -> OutgoingMessage:
    """The scorecard e-mail, trend chart inline, in the first recipient's language."""
    if not recipients:
        raise DocumentError(
            f"scorecard {card.partner_id} {card.period}: at least one recipient "
            "is needed to pick the language; received none"
        )
    language = recipients[0].language
    context: dict[str, Any] = {
        "card": card,
        "greeting_name": recipients[0].name,
        "period_label": period_label(card.period, language),
        # The score as dbt rounded it, two places: the e-mail says so.
        "score_text": None if card.score is None else format_plain(card.score),
        "rank_band": rank_band(card.rank, card.partner_count, language),
        "weakest": card.weakest(),
        "trend": [
            {"label": period_label(point.period, language), "score": point.score}
            for point in card.trend
        ],
    }
    images: tuple[InlineImage, ...] = ()
    if any(point.score is not None for point in card.trend):
        chart = InlineImage(
            cid=f"trend.{_cid_safe(card.partner_id)}.{card.period}@channelops",
            filename=f"trend_{_cid_safe(card.partner_id)}_{card.period}.png",
            content=trend_chart_png(
                card.trend, language, CHART_TITLE[language].format(card.partner_name)
            ),
        )
        images = (chart,)
        context["chart_cid"] = chart.cid
    else:
        context["chart_cid"] = None
    subject = _one_line(_render(f"{language}/scorecard_subject.txt", context))
    context["subject"] = subject
    return OutgoingMessage(
        key=key,
        message_id=message_id,
        to=recipients,
        subject=subject,
        html=_render(f"{language}/scorecard.html", context),
        text=_render(f"{language}/scorecard.txt", context),
        attachments=(),
        inline_images=images,
    )


CHART_TITLE: dict[Language, str] = {
    "zh-CN": "{} 综合得分趋势",
    "en": "Score trend of {}",
}


def _cid_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text)


def render_ops_alert(
    subject: str,
    lines: list[str],
    *,
    key: str,
    message_id: str,
    to: tuple[Recipient, ...],
) -> OutgoingMessage:
    """A plain alert for the operations team: a subject and a list of lines."""
    context: dict[str, Any] = {"subject": _one_line(subject), "lines": lines}
    return OutgoingMessage(
        key=key,
        message_id=message_id,
        to=to,
        subject=context["subject"],
        html=_render("ops_alert.html", context),
        text=_render("ops_alert.txt", context),
        attachments=(),
    )


def render_template(name: str, context: dict[str, Any]) -> str:
    """Any template under ``templates/`` (HTML autoescaped) with ``context``."""
    return _render(name, context)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("notifications", "templates"),
        # Escape everything but the plain-text templates, so a template with
        # an unexpected extension fails safe.
        autoescape=select_autoescape(
            enabled_extensions=("html",),
            disabled_extensions=("txt",),
            default_for_string=True,
            default=True,
        ),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["money"] = format_money
    environment.filters["percent"] = format_percent
    environment.filters["plain"] = format_plain
    environment.filters["points"] = format_points
    return environment


def _render(template_name: str, context: dict[str, Any]) -> str:
    return _environment().get_template(template_name).render(context)


def _statement_context(
    statement: Statement, recipient: Recipient, language: Language
) -> dict[str, Any]:
    scorecard = statement.scorecard
    return {
        "statement": statement,
        "currency": statement.currency,
        "greeting_name": recipient.name,
        "period_label": period_label(statement.period, language),
        "scorecard": scorecard,
        "score_text": _score_text(statement),
        "rank_band": (
            rank_band(scorecard.rank, scorecard.partner_count, language)
            if scorecard is not None
            else None
        ),
    }


def _score_text(statement: Statement) -> str | None:
    scorecard = statement.scorecard
    if scorecard is None or scorecard.score is None:
        return None
    return format_plain(scorecard.score)


def _one_line(text: str) -> str:
    """Collapse a rendered subject to one line with single spaces."""
    return " ".join(text.split())

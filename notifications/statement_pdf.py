"""The PDF attachment of a rebate statement, in the recipient's language.

Same content as the e-mail: summary, explained lines, adjustments and
clawbacks, carry-forward, version and, for a corrected statement, what
changed since the version it replaces. Every amount goes through
``formatting.format_money``, so the PDF, the e-mail and the workbook print
identical strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from notifications.documents import (
    Attachment,
    Language,
    Statement,
    StatementLine,
    VersionChanges,
)
from notifications.formatting import (
    format_money,
    format_percent,
    format_plain,
    period_label,
)
from notifications.pdf import PDF_MIME_TYPE, Report, Section, render_pdf
from notifications.workbook import statement_filename


@dataclass(frozen=True)
class _Labels:
    title: str
    author: str
    summary: tuple[str, ...]
    lines_title: str
    adjustments_title: str
    line_columns: tuple[str, ...]
    per_unit: str
    adjustment_columns: tuple[str, ...]
    changes_title: str
    change_columns: tuple[str, ...]
    absent: str
    carried_forward: str
    replaces: str
    changes_total: str
    rounding: str
    footer: str


_LABELS: dict[Language, _Labels] = {
    "zh-CN": _Labels(
        title="返利结算单",
        author="渠道运营中心",
        summary=(
            "合作伙伴",
            "合作伙伴编号",
            "结算期间",
            "版本",
            "期间净销售额",
            "返利合计",
        ),
        lines_title="返利明细",
        adjustments_title="调整与扣回",
        per_unit="{amount} {currency}/件",
        line_columns=(
            "序号",
            "返利项目",
            "规则与说明",
            "计算基数",
            "档位",
            "比例",
            "金额",
        ),
        adjustment_columns=("序号", "项目", "说明", "金额"),
        changes_title="与上一版本相比的变化",
        change_columns=("返利项目", "上一版本", "本版本", "差额"),
        absent="—",
        carried_forward="结转至下期（未支付）的负余额：{amount}",
        replaces="本结算单（v{version}）替代此前发送的 v{previous}，请以本版本为准。",
        changes_total="返利合计：v{previous} {before} → v{version} {after}"
        "（差额 {diff}）",
        rounding="金额按每行四舍五入至分（0.01），返利合计为各行所列金额之和。",
        footer="内容校验码 {hash}",
    ),
    "en": _Labels(
        title="Rebate statement",
        author="Channel operations",
        summary=(
            "Partner",
            "Partner ID",
            "Period",
            "Version",
            "Net sales",
            "Rebate total",
        ),
        lines_title="Rebate lines",
        adjustments_title="Adjustments and clawbacks",
        per_unit="{amount} {currency} per unit",
        line_columns=(
            "Line",
            "Program",
            "Rule and explanation",
            "Basis",
            "Tier",
            "Rate",
            "Amount",
        ),
        adjustment_columns=("Line", "Item", "Explanation", "Amount"),
        changes_title="What changed since the last version",
        change_columns=("Program", "Previous version", "This version", "Difference"),
        absent="—",
        carried_forward="Negative balance carried forward to the next period "
        "(not paid): {amount}",
        replaces="This statement (v{version}) replaces v{previous} sent earlier; "
        "please use this version.",
        changes_total="Rebate total: v{previous} {before} → v{version} {after} "
        "(difference {diff})",
        rounding="Each line is rounded half-up to 0.01; the total is the sum of "
        "the printed lines.",
        footer="Content hash {hash}",
    ),
}


def statement_pdf(statement: Statement, language: Language) -> Attachment:
    """The statement as a one-file PDF attachment named like the workbook."""
    labels = _LABELS[language]

    def money(amount: Decimal) -> str:
        return format_money(amount, statement.currency)

    notices: tuple[str, ...] = ()
    if statement.changes is not None:
        notices = (
            labels.replaces.format(
                version=statement.version,
                previous=statement.changes.previous_version,
            ),
        )
    report = Report(
        title=f"{labels.title} {period_label(statement.period, language)}",
        subtitle=f"{statement.partner_name}（{statement.partner_id}）· "
        f"v{statement.version}",
        language=language,
        author=labels.author,
        summary=tuple(
            zip(
                labels.summary,
                (
                    statement.partner_name,
                    statement.partner_id,
                    period_label(statement.period, language),
                    f"v{statement.version}",
                    money(statement.net_sales),
                    money(statement.total),
                ),
                strict=True,
            )
        ),
        sections=_sections(statement, labels),
        notes=_notes(statement, labels),
        notices=notices,
        footer=labels.footer.format(hash=statement.content_hash),
    )
    stem = statement_filename(statement, language).removesuffix(".xlsx")
    return Attachment(
        filename=f"{stem}.pdf", content=render_pdf(report), mime_type=PDF_MIME_TYPE
    )


def _sections(statement: Statement, labels: _Labels) -> tuple[Section, ...]:
    sections = [
        Section(
            title=labels.lines_title,
            columns=labels.line_columns,
            rows=tuple(
                _line_row(statement, line, labels) for line in statement.program_lines
            ),
            numeric=(False, False, False, True, False, True, True),
        )
    ]
    if statement.adjustment_lines:
        sections.append(
            Section(
                title=labels.adjustments_title,
                columns=labels.adjustment_columns,
                rows=tuple(
                    (
                        str(line.line_no),
                        f"{line.program_name}（{line.program_id}）",
                        line.explanation or line.rule,
                        format_money(line.amount, statement.currency),
                    )
                    for line in statement.adjustment_lines
                ),
                numeric=(False, False, False, True),
            )
        )
    if statement.changes is not None:
        sections.append(_changes_section(statement, statement.changes, labels))
    return tuple(sections)


def _line_row(
    statement: Statement, line: StatementLine, labels: _Labels
) -> tuple[str, ...]:
    rule = f"{line.rule}\n{line.explanation}" if line.explanation else line.rule
    rate = (
        labels.per_unit.format(
            amount=format_plain(line.rate), currency=statement.currency
        )
        if line.rate_is_per_unit
        else format_percent(line.rate)
    )
    return (
        str(line.line_no),
        f"{line.program_name}（{line.program_id}）",
        rule,
        format_money(line.basis_amount, statement.currency),
        line.tier,
        rate,
        format_money(line.amount, statement.currency),
    )


def _changes_section(
    statement: Statement, changes: VersionChanges, labels: _Labels
) -> Section:
    def shown(amount: Decimal | None) -> str:
        if amount is None:
            return labels.absent
        return format_money(amount, statement.currency)

    total_note = labels.changes_total.format(
        previous=changes.previous_version,
        version=statement.version,
        before=format_money(changes.previous_total, statement.currency),
        after=format_money(changes.total, statement.currency),
        diff=format_money(changes.total - changes.previous_total, statement.currency),
    )
    return Section(
        title=labels.changes_title,
        columns=labels.change_columns,
        rows=tuple(
            (
                f"{change.program_name}（{change.program_id}）",
                shown(change.previous_amount),
                shown(change.amount),
                format_money(change.difference, statement.currency),
            )
            for change in changes.lines
        ),
        numeric=(False, True, True, True),
        notes=(total_note, *((changes.reason,) if changes.reason else ())),
    )


def _notes(statement: Statement, labels: _Labels) -> tuple[str, ...]:
    notes = [labels.rounding]
    if statement.carried_forward:
        notes.append(
            labels.carried_forward.format(
                amount=format_money(statement.carried_forward, statement.currency)
            )
        )
    return tuple(notes)

"""The statement PDF: Chinese text that survives extraction, stable bytes."""

from __future__ import annotations

import io

import pypdf

from notifications.statement_pdf import statement_pdf
from tests.notifications.samples import PARTNER_NAME, corrected_statement, statement


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def embedded_fonts(content: bytes) -> set[str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return {
        str(font.get_object()["/BaseFont"]).split("+")[-1]
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }


def test_statement_pdf_should_show_the_partner_s_chinese_name_and_amounts() -> None:
    attachment = statement_pdf(statement(), "zh-CN")
    text = pdf_text(attachment.content)

    assert attachment.mime_type == "application/pdf"
    assert attachment.filename == "返利结算单_P0001_2026Q3_v1.pdf"
    assert PARTNER_NAME in text
    assert "¥1,234,567.80" in text and "¥1,279,317.80" in text
    assert embedded_fonts(attachment.content) == {"NotoSansCJKsc-Regular-Identity-H"}


def test_statement_pdf_built_twice_should_be_byte_identical() -> None:
    assert (
        statement_pdf(statement(), "zh-CN").content
        == statement_pdf(statement(), "zh-CN").content
    )


def test_corrected_statement_pdf_should_say_what_changed() -> None:
    text = pdf_text(statement_pdf(corrected_statement(), "zh-CN").content)

    assert "本结算单（v2）替代此前发送的 v1" in text
    assert "与上一版本相比的变化" in text
    assert "调整与扣回" in text and "-¥2,000.00" in text
    assert "补录了 9 月的退货单" in text


def test_english_statement_pdf_should_keep_the_chinese_partner_name() -> None:
    attachment = statement_pdf(statement(), "en")
    text = pdf_text(attachment.content)

    assert attachment.filename == "rebate-statement_P0001_2026Q3_v1.pdf"
    assert "Rebate statement" in text and PARTNER_NAME in text


def test_markup_in_a_partner_name_should_print_as_typed() -> None:
    name = '#strong[x] *bold* $1 <a> "q"'
    text = pdf_text(statement_pdf(statement(partner_name=name), "zh-CN").content)

    assert name in text.replace("\n", " ")

"""PDF documents with Chinese text: the statement attachment, the meeting pack.

Typeset with typst (the PyPI ``typst`` package, an embedded compiler) from one
template, ``templates/pdf/report.typ``, filled with already formatted strings
so the PDF shows exactly what the e-mail and the workbook show. Strings reach
typst as JSON data, never as markup, so a partner name cannot inject layout.

Chinese needs a CJK font. channelops uses Noto Sans CJK SC (SIL Open Font
License), the file the ``mplfonts`` package ships, and only that font (the
package also ships others, SimHei among them, whose licence is not open; the
template never falls back to them). System fonts are ignored, so every
machine with the same pinned packages produces the same bytes (``date:
none`` keeps the creation time out). The font is subset into each PDF, so a
reader needs no font installed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import typst

from notifications.documents import DocumentError

logger = logging.getLogger(__name__)

PDF_MIME_TYPE = "application/pdf"

# The one font embedded in every PDF, and the package that ships it.
CJK_FONT_FAMILY = "Noto Sans CJK SC"
CJK_FONT_PACKAGE = "mplfonts"
CJK_FONT_FILE = "mplfonts/fonts/NotoSansCJKsc-Regular.otf"

_TEMPLATE = Path(__file__).parent / "templates" / "pdf" / "report.typ"


@dataclass(frozen=True)
class Section:
    """A titled table; ``numeric`` marks right-aligned columns."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        width = len(self.columns)
        if len(self.numeric) != width or any(len(r) != width for r in self.rows):
            raise DocumentError(
                f"PDF section {self.title!r}: every row and the alignment must "
                f"have {width} cells like the header, received rows of "
                f"{sorted({len(r) for r in self.rows})} and {len(self.numeric)} "
                "alignments"
            )


@dataclass(frozen=True)
class Report:
    """The content of one PDF, every value already a display string."""

    title: str
    subtitle: str
    language: str
    author: str
    summary: tuple[tuple[str, str], ...]
    sections: tuple[Section, ...]
    notes: tuple[str, ...] = ()
    notices: tuple[str, ...] = ()
    footer: str = ""


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes; the same report gives the same bytes."""
    data = {
        "title": report.title,
        "subtitle": report.subtitle,
        "lang": "zh" if report.language == "zh-CN" else "en",
        "author": report.author,
        "font": CJK_FONT_FAMILY,
        "summary": [list(row) for row in report.summary],
        "sections": [
            {
                "title": section.title,
                "columns": list(section.columns),
                "rows": [list(row) for row in section.rows],
                "numeric": list(section.numeric),
                "notes": list(section.notes),
            }
            for section in report.sections
        ],
        "notes": list(report.notes),
        "notices": list(report.notices),
        "footer": report.footer,
    }
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    pdf, warnings = _compiler().compile_with_warnings(sys_inputs={"data": payload})
    if warnings:
        # A missing glyph or font is a warning in typst, a defect here.
        raise DocumentError(
            f"PDF {report.title!r}: typst reported {len(warnings)} problem(s), "
            f"first: {warnings[0]}; check that {CJK_FONT_FILE} is installed "
            f"(package {CJK_FONT_PACKAGE})"
        )
    if not isinstance(pdf, bytes):
        raise DocumentError(
            f"PDF {report.title!r}: typst returned {type(pdf).__name__}, "
            "expected bytes; check the typst package version"
        )
    return pdf


def cjk_font_path() -> Path:
    """The Noto Sans CJK SC file, found without importing its package."""
    try:
        located = metadata.distribution(CJK_FONT_PACKAGE).locate_file(CJK_FONT_FILE)
    except metadata.PackageNotFoundError as error:
        raise DocumentError(
            f"the CJK font package {CJK_FONT_PACKAGE!r} is not installed, so no "
            "PDF with Chinese text can be made; run `uv sync` (it is a "
            "channelops dependency)"
        ) from error
    path = Path(str(located))
    if not path.is_file():
        raise DocumentError(
            f"expected the font {CJK_FONT_FILE} inside package "
            f"{CJK_FONT_PACKAGE!r}, found nothing at {path}; reinstall it with "
            f"`uv sync --reinstall-package {CJK_FONT_PACKAGE}`"
        )
    return path


@cache
def _compiler() -> typst.Compiler:
    font = cjk_font_path()
    logger.debug("typst compiler for %s with font %s", _TEMPLATE, font)
    # typst reads font folders, not files; the template selects the one
    # family and turns fallback off, so no other font in it is ever used.
    return typst.Compiler(
        str(_TEMPLATE), font_paths=[str(font.parent)], ignore_system_fonts=True
    )

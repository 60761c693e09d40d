"""The channelops command as a user runs it."""

from __future__ import annotations

import email
import email.policy
import io
import json
import logging
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
from typer.testing import CliRunner

from channelops.cli import app
from channelops.scorecard_mail import PERCENT_METRICS, scorecard_documents
from channelops.settings import load_settings
from channelops.warehouse import Warehouse

runner = CliRunner()


def test_help_lists_the_commands_without_importing_the_stack() -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    commands = (
        "demo", "nightly", "settle", "backfill", "resend", "ops", "contract",
        "meeting-pack", "send-scorecards", "accruals",
    )  # fmt: skip
    for command in (*commands, "check-config"):
        assert command in result.output


def test_check_config_accepts_the_bundled_configuration() -> None:
    result = runner.invoke(app, ["check-config"])

    assert result.exit_code == 0, result.output
    assert "is valid" in result.output


@pytest.mark.parametrize("day", ["2026-13-01", "yesterday", "2026/09/30"])
def test_nightly_refuses_an_as_of_that_is_not_a_date(day: str) -> None:
    result = runner.invoke(app, ["nightly", "--as-of", day])

    assert result.exit_code == 1
    assert f"--as-of {day!r} is not a date like 2026-09-30" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_check_config_names_the_file_of_a_bad_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config"
    (config / "programs").mkdir(parents=True)
    (config / "sources").mkdir()
    repo_config = Path(__file__).resolve().parents[2] / "config"
    (config / "sources" / "demo.yml").write_text(
        (repo_config / "sources" / "demo.yml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    (config / "scorecard.yml").write_text(
        (repo_config / "scorecard.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (config / "programs" / "broken.yml").write_text(
        "program_id: broken\nname: x\nversion: 1\neffective_from: 2025-01-01\n"
        "calculation: retroactive\ntiers:\n  - {name: a, from: 0, to: 10, rate: 0.1}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CHANNELOPS_CONFIG_DIR", str(config))

    result = runner.invoke(app, ["check-config"])

    assert result.exit_code == 1
    assert "broken.yml" in result.output
    assert "tiers.0.to" in result.output


@pytest.mark.prefect
@pytest.mark.usefixtures("prefect_api")
def test_demo_mails_each_partner_only_its_own_names_ids_and_amounts(
    isolated_settings: Path,
) -> None:
    result = runner.invoke(app, ["demo", "--partners", "12"])

    assert result.exit_code == 0, result.output
    assert "Demo settled 2026Q3" in result.output
    assert_each_message_holds_only_its_partner(isolated_settings)
    assert_scorecards_mailed_once_with_own_figures(isolated_settings)


def assert_scorecards_mailed_once_with_own_figures(home: Path) -> None:
    """The demo's scorecards, mailed; their points agree with the mart's score."""
    statements = set((home / "outbox").glob("*.eml"))
    first = runner.invoke(app, ["send-scorecards", "--period", "2026Q3"])
    again = runner.invoke(app, ["send-scorecards", "--period", "2026Q3"])
    with Warehouse(load_settings()) as warehouse:
        documents = scorecard_documents(warehouse, "2026Q3")
    received = set((home / "outbox").glob("*.eml")) - statements
    assert first.exit_code == 0, first.output
    counts = re.search(r"(\d+) queued, (\d+) sent, 0 failed", first.output)
    assert counts is not None, first.output
    assert int(counts[1]) == int(counts[2]) == len(received) > len(documents) / 2
    assert "0 queued, 0 sent, 0 failed" in again.output
    scored = [d for d in documents if d["score"] is not None]
    assert scored
    for document in scored:
        points = [(m["points"], m["weight"]) for m in document["metrics"]]
        present = [(p, w) for p, w in points if p is not None]
        mean = sum(p * w for p, w in present) / sum(w for _, w in present)
        assert abs(mean - document["score"]) <= Decimal("0.005"), document
    partners = published_partners(home / "published")
    names = {p.partner_id: p.name for p in partners.values()}
    by_partner = {d["partner"]["partner_id"]: d for d in documents}
    for path in received:
        message = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        (own,) = {f"P{n}" for n in re.findall(r"@p(\d{4})\.example", message["To"])}
        allowed, own_sales = scorecard_amounts(by_partner[own])
        subject, *bodies = scorecard_texts(message)
        for text in (subject, *bodies):
            assert set(re.findall(r"P\d{4}", text)) <= {own}, path.name
            for partner_id, name in names.items():
                if partner_id != own:
                    assert name not in text.replace(names.get(own, own), ""), path.name
            shown = set(SCORECARD_AMOUNT.findall(text))
            assert shown <= allowed, (path.name, shown - allowed)
        # Its own id, name and net sales are in the text and in the HTML.
        for text in bodies:
            assert own in text and names.get(own, own) in text, path.name
            assert own_sales <= set(SCORECARD_AMOUNT.findall(text)), path.name


# A figure with two decimals, as the scorecard prints net sales (1,234,567.89)
# and a metric such as satisfaction (4.25); percentages are left out.
SCORECARD_AMOUNT = re.compile(r"(?<![\d.,])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d%])")


def scorecard_amounts(document: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The figures a partner's scorecard may print, and its own net sales.

    It may print its own score, each metric's value and points, and the
    rules' bounds, which every partner sees; net sales as money, the others
    as plain numbers.
    """
    allowed: set[str] = set()
    own: set[str] = set()
    if document["score"] is not None:
        allowed.add(money(document["score"]))
    for metric in document["metrics"]:
        name = metric["metric"]
        if metric["points"] is not None:
            allowed.add(plain(metric["points"]))
        if name in PERCENT_METRICS:
            continue
        shown = money if name == "net_sales" else plain
        values = [metric["floor"], metric["cap"], metric["value"]]
        allowed |= {shown(value) for value in values if value is not None}
        if name == "net_sales" and metric["value"] is not None:
            own.add(money(metric["value"]))
    return allowed, own


def money(value: Any) -> str:
    return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"


def plain(value: Any) -> str:
    text = f"{Decimal(str(value)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def scorecard_texts(message: EmailMessage) -> list[str]:
    """The subject, the plain-text part and the HTML part (tags dropped)."""
    texts = [str(message["Subject"])]
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        assert body is not None and body.get_content_subtype() == kind
        texts.append(re.sub(r"<[^>]+>", " ", str(body.get_content())))
    return texts


def assert_each_message_holds_only_its_partner(home: Path) -> None:
    """Every partner name, id and amount in a message is its recipient's."""
    partners = published_partners(home / "published")
    messages = sorted((home / "outbox").glob("*.eml"))
    assert len(messages) == len(partners) > 1
    for path in messages:
        message = email.message_from_bytes(
            path.read_bytes(), policy=email.policy.default
        )
        assert isinstance(message, EmailMessage)
        domains = set(re.findall(r"@p(\d{4})\.example", str(message["To"])))
        assert len(domains) == 1, message["To"]
        own = partners[f"P{domains.pop()}"]
        texts, numbers = message_contents(message)
        assert len(texts) == 5, path.name  # subject, text, html, xlsx, pdf
        for text in texts:
            assert set(re.findall(r"P\d{4}", text)) <= {own.partner_id}, path.name
            for other in partners.values():
                if other is not own:
                    assert other.name not in text.replace(own.name, ""), path.name
            shown = {Decimal(a.replace(",", "")) for a in MONEY.findall(text)}
            assert shown <= own.amounts, (path.name, shown - own.amounts)
        assert all(own.partner_id in text for text in texts[1:]), path.name
        assert own.name in texts[1] and own.name in texts[4]
        assert numbers <= own.amounts | own.counts, (path.name, numbers)


# An amount as the e-mail, the PDF and the workbook print it (sign, symbol).
MONEY = re.compile(r"-?(?:¥|[A-Z]{3} )(\d{1,3}(?:,\d{3})*\.\d{2})")


@dataclass
class PartnerFacts:
    """What one partner's published statement says, to check its mail against."""

    partner_id: str
    name: str
    amounts: set[Decimal] = field(default_factory=set)
    counts: set[Decimal] = field(default_factory=set)


def published_partners(published: Path) -> dict[str, PartnerFacts]:
    partners = {}
    for path in published.glob("*/*/v*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))["document"]
        partner = document["partner"]
        facts = PartnerFacts(partner["partner_id"], partner["partner_name"])
        collect_numbers(document, facts)
        partners[facts.partner_id] = facts
    return partners


def collect_numbers(value: Any, facts: PartnerFacts) -> None:
    """Every number in the document: two-place amounts apart, counts apart."""
    if isinstance(value, dict):
        for item in value.values():
            collect_numbers(item, facts)
    elif isinstance(value, list):
        for item in value:
            collect_numbers(item, facts)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        facts.counts.add(Decimal(value))
    elif isinstance(value, str) and re.fullmatch(r"-?\d+\.\d+", value):
        number = Decimal(value)
        if number == number.quantize(Decimal("0.01")):
            facts.amounts.add(abs(number))
        facts.counts.add(number)


def message_contents(message: EmailMessage) -> tuple[list[str], set[Decimal]]:
    """Subject, bodies and attachments as text; the workbook's numbers apart."""
    texts = [str(message["Subject"])]
    for kind in ("plain", "html"):
        body = message.get_body(preferencelist=(kind,))
        assert body is not None
        texts.append(str(body.get_content()))
    numbers: set[Decimal] = set()
    for attachment in message.iter_attachments():
        content = attachment.get_content()
        if attachment.get_content_type() == "application/pdf":
            reader = pypdf.PdfReader(io.BytesIO(content))
            texts.append("".join(page.extract_text() for page in reader.pages))
            continue
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
        cells = [
            cell
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for cell in row
            if cell is not None
        ]
        workbook.close()
        texts.append("\n".join(str(cell) for cell in cells if isinstance(cell, str)))
        numbers |= {
            abs(Decimal(repr(cell)))
            for cell in cells
            if isinstance(cell, int | float) and not isinstance(cell, bool)
        }
    return texts, numbers


def test_ops_status_without_a_stack_says_so_and_fails(isolated_settings: Path) -> None:
    result = runner.invoke(app, ["ops", "status"])

    assert result.exit_code == 1
    assert f"No ops stack recorded in {isolated_settings / 'ops'}" in result.output


def test_ops_up_refuses_a_database_prefect_cannot_use() -> None:
    result = runner.invoke(app, ["ops", "up", "--database", "mysql://root@db/x"])

    assert result.exit_code == 1
    assert "Ops stack not started" in result.output
    assert "'mysql://root@db/x'" in result.output


def test_an_explained_error_is_logged_without_its_traceback() -> None:
    from channelops.cli import _ExplainedErrorsWithoutTraceback, _logging
    from channelops.errors import InputError

    _logging()
    installed = logging.getLogger("prefect.flow_runs").filters
    assert any(isinstance(f, _ExplainedErrorsWithoutTraceback) for f in installed)

    def logged(error: Exception) -> logging.LogRecord:
        try:
            raise error
        except Exception:
            record = logging.LogRecord(
                "prefect.flow_runs", logging.ERROR, __file__, 1,
                "Encountered exception during execution", None, sys.exc_info(),
            )  # fmt: skip
        assert _ExplainedErrorsWithoutTraceback().filter(record)
        return record

    assert logged(InputError("sales.csv row 3: net_amount")).exc_info is None
    assert logged(KeyError("x")).exc_info is not None

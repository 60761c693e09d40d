"""Tests for channelops.publish's pure helpers: canonical bytes and write-once."""

from __future__ import annotations

import json
import stat
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from channelops.publish import (
    PublishConflict,
    SettlementRecord,
    _delta_document,
    _write_once,
    canonical_json,
    content_hash,
    settlement_hash,
)


def _document(amount: str = "1140.00") -> dict[str, Any]:
    return {
        "partner_id": "P001",
        "partner_name": "华东贸易有限公司",
        "period": "2025Q3",
        "issued_on": date(2025, 10, 8),
        "lines": [
            {"line_no": 1, "rate": Decimal("0.020000"), "amount": Decimal(amount)},
        ],
        "total_amount": Decimal(amount),
    }


def test_canonical_json_should_not_depend_on_key_order() -> None:
    document = _document()
    reordered = dict(reversed(list(document.items())))

    assert canonical_json(reordered) == canonical_json(document)


def test_canonical_json_should_give_the_same_bytes_every_time() -> None:
    assert canonical_json(_document()) == canonical_json(_document())


def test_canonical_json_should_write_decimals_as_exact_strings() -> None:
    data = canonical_json(_document())
    parsed = json.loads(data)

    assert b'"total_amount": "1140.00"' in data
    assert parsed["lines"][0] == {
        "amount": "1140.00",
        "line_no": 1,
        "rate": "0.020000",
    }
    assert b": 1140" not in data


def test_canonical_json_should_never_use_an_exponent_for_a_decimal() -> None:
    data = canonical_json({"amount": Decimal("1E+3"), "tiny": Decimal("1E-7")})

    assert json.loads(data) == {"amount": "1000", "tiny": "0.0000001"}


def test_canonical_json_should_keep_chinese_text_readable() -> None:
    assert "华东贸易有限公司".encode() in canonical_json(_document())


def test_canonical_json_should_write_dates_and_times_in_iso_form() -> None:
    data = canonical_json({"on": date(2025, 1, 3), "at": datetime(2025, 1, 3, 1, 0)})

    assert json.loads(data) == {"at": "2025-01-03T01:00:00", "on": "2025-01-03"}


def test_canonical_json_should_refuse_a_type_it_cannot_write_exactly() -> None:
    with pytest.raises(TypeError, match="cannot write set"):
        canonical_json({"partners": {"P001"}})


def test_content_hash_should_change_when_an_amount_changes_by_a_cent() -> None:
    assert content_hash(_document("1140.00")) != content_hash(_document("1140.01"))


def test_content_hash_should_be_a_sha256_hex_digest_stable_across_calls() -> None:
    digest = content_hash(_document())

    assert digest == content_hash(_document())
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


def test_content_hash_should_see_the_scale_of_an_amount() -> None:
    assert content_hash(_document("1140.0")) != content_hash(_document("1140.00"))


def test_write_once_should_write_a_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "2025Q3" / "P001" / "v1.json"

    _write_once(path, b"{}")

    assert path.read_bytes() == b"{}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert [p.name for p in path.parent.iterdir()] == ["v1.json"]


def test_write_once_with_identical_bytes_should_leave_the_file_alone(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.json"
    _write_once(path, b'{"total_amount": "1140.00"}')
    written = path.stat().st_mtime_ns

    _write_once(path, b'{"total_amount": "1140.00"}')

    assert path.stat().st_mtime_ns == written
    assert path.read_bytes() == b'{"total_amount": "1140.00"}'


def test_write_once_with_different_bytes_should_raise_and_keep_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.json"
    _write_once(path, b'{"total_amount": "1140.00"}')

    with pytest.raises(PublishConflict, match="already published with different"):
        _write_once(path, b'{"total_amount": "1140.01"}')

    assert path.read_bytes() == b'{"total_amount": "1140.00"}'


def _settlement(*lines: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "statement_key": "P001-2026Q3",
        "lines": [
            {
                "statement_line_key": key,
                "line_no": n,
                "line_kind": kind,
                "program_id": key.split("-", 2)[-1],
                "program_version": 1,
                "amount": Decimal(amount),
            }
            for n, (key, kind, amount) in enumerate(lines, start=1)
        ],
        "total_amount": sum((Decimal(a) for _, _, a in lines), Decimal("0.00")),
    }


def test_a_correction_should_list_only_the_deltas_and_withdraw_vanished_lines() -> None:
    earlier = SettlementRecord(
        version=1,
        settlement_hash="h1",
        program_versions="annual v1",
        inputs_hash="i1",
        code_version="0.1.0",
        settled_lines=(
            ("P001-2026Q3-annual", "annual", Decimal("196.00")),
            ("P001-2026Q3-growth", "growth", Decimal("50.00")),
            ("P001-2026Q3-adjustment-A1", "adjustment-A1", Decimal("200.00")),
        ),
    )
    record = SettlementRecord(2, "h2", "annual v2", "i2", "0.1.0").with_reason(earlier)
    settlement = _settlement(
        ("P001-2026Q3-annual", "program", "156.00"),
        ("P001-2026Q3-growth", "program", "50.00"),
    )

    delta = _delta_document(settlement, earlier, record)

    assert record.reason == (
        "corrects v1: input files changed; programs changed from annual v1 to annual v2"
    )
    assert [
        (line["line_no"], line["line_kind"], line["program_id"], line["amount"])
        for line in delta["lines"]
    ] == [
        (1, "program_correction", "annual", Decimal("-40.00")),
        (2, "withdrawn", "adjustment-A1", Decimal("-200.00")),
    ]
    assert delta["total_amount"] == Decimal("-240.00")
    assert delta["settlement_total_amount"] == Decimal("206.00")
    assert delta["supersedes_version"] == 1
    assert delta["lines"][0]["previously_published_amount"] == Decimal("196.00")
    assert delta["lines"][0]["settled_amount"] == Decimal("156.00")


def test_the_settlement_hash_should_ignore_the_scorecard_only() -> None:
    document = _document()

    assert settlement_hash({**document, "scorecard": {"rank": 1}}) == (
        settlement_hash({**document, "scorecard": {"rank": 2}})
    )
    assert settlement_hash(document) != settlement_hash(_document("1140.01"))

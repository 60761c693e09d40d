"""The Run forms' schemas refuse bad values the way the Prefect server checks them.

Each schema is built as ``prefect deploy`` builds it and checked with the
validator the server applies when a run is requested, so no API is needed.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from prefect.utilities.callables import parameter_schema
from prefect.utilities.schema_tools.validation import ValidationError, validate

from channelops.periods import Month, Quarter
from flows.backfill import backfill
from flows.meeting_pack import meeting_pack
from flows.monthly_scorecards import monthly_scorecards
from flows.nightly import nightly
from flows.parameters import (
    InvalidParameters,
    backfill_quarters,
    explain_refusal,
    scorecard_month,
    settlement_quarter,
)
from flows.quarterly_settlement import quarterly_settlement
from flows.resend_statement import resend_statement

FLOWS = (
    nightly,
    quarterly_settlement,
    resend_statement,
    backfill,
    monthly_scorecards,
    meeting_pack,
)


def settlement_schema() -> dict[str, Any]:
    return parameter_schema(quarterly_settlement).model_dump_for_openapi()


def refusal(parameters: dict[str, Any], schema: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as refused:
        validate(parameters, schema, raise_on_error=True)
    return str(refused.value)


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {"period": "2026Q3"},
        {"as_of": "2026-10-10"},
        {"partners": ["P0007", "经销商-01", "1"]},
        {"period": "2026Q3", "dry_run": True},
        {"publish_despite_warnings": "财务已核对退货"},
    ],
)
def test_settlement_form_should_accept_what_an_operator_means(
    parameters: dict[str, Any],
) -> None:
    validate(parameters, settlement_schema(), raise_on_error=True)


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"period": "2026Q5"}, "period"),
        ({"period": "2026-Q3"}, "period"),
        ({"period": "26Q3"}, "period"),
        ({"as_of": "2026-13-01"}, "as_of"),
        ({"as_of": "10/10/2026"}, "as_of"),
        ({"partners": []}, "partners"),
        ({"partners": ["P0007", "P0007"]}, "partners"),
        ({"partners": ["P 0007"]}, "partners[0]"),
        ({"partners": ["../P0007"]}, "partners[0]"),
        ({"partners": [f"P{n:04d}" for n in range(201)]}, "partners"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"publish_despite_warnings": "    "}, "publish_despite_warnings"),
        ({"publish_despite_warnings": "ok"}, "publish_despite_warnings"),
        ({"publish_despite_warnings": "x" * 501}, "publish_despite_warnings"),
    ],
)
def test_settlement_form_should_refuse_a_bad_value_naming_its_field(
    parameters: dict[str, Any], field: str
) -> None:
    assert f"field {field!r}" in refusal(parameters, settlement_schema())


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"period": "2026Q3", "partner_id": "P0007", "version": 0}, "version"),
        ({"period": "2026Q3", "partner_id": "P0007", "version": 1.5}, "version"),
        (
            {"period": "2026Q3", "partner_id": "P0007", "version": 1, "request": "x"},
            "request",
        ),
    ],
)
def test_resend_form_should_refuse_a_bad_version_or_reference(
    parameters: dict[str, Any], field: str
) -> None:
    schema = parameter_schema(resend_statement).model_dump_for_openapi()
    parameters = {"request": "OPS-2026-0142", **parameters}

    assert f"field {field!r}" in refusal(parameters, schema)


def test_resend_form_should_require_every_field() -> None:
    schema = parameter_schema(resend_statement).model_dump_for_openapi()

    assert "'request' is a required property" in refusal(
        {"period": "2026Q3", "partner_id": "P0007", "version": 1}, schema
    )


@pytest.mark.parametrize(
    ("parameters", "field"),
    [
        ({"period": "2026-13"}, "period"),
        ({"period": "2026-00"}, "period"),
        ({"period": "2026-1"}, "period"),
        ({"period": "2026Q3"}, "period"),
        ({"partners": []}, "partners"),
        ({"dry_run": "no"}, "dry_run"),
    ],
)
def test_monthly_form_should_refuse_a_bad_month_naming_its_field(
    parameters: dict[str, Any], field: str
) -> None:
    schema = parameter_schema(monthly_scorecards).model_dump_for_openapi()
    validate({"period": "2026-11", "partners": ["P0007"]}, schema, raise_on_error=True)

    assert f"field {field!r}" in refusal(parameters, schema)


def test_meeting_pack_form_should_refuse_a_month_or_an_unknown_language() -> None:
    schema = parameter_schema(meeting_pack).model_dump_for_openapi()
    validate({"period": "2026Q3", "language": "en"}, schema, raise_on_error=True)

    assert "field 'period'" in refusal({"period": "2026-09"}, schema)
    assert "field 'language'" in refusal({"language": "fr"}, schema)


def test_scorecard_month_should_default_to_the_last_closed_month() -> None:
    assert scorecard_month(None, date(2026, 12, 3)) == Month(2026, 11)
    assert scorecard_month(None, date(2027, 1, 1)) == Month(2026, 12)
    assert scorecard_month("2026-02", date(2026, 12, 3)) == Month(2026, 2)


def test_scorecard_month_should_refuse_a_month_that_has_not_ended() -> None:
    with pytest.raises(InvalidParameters, match="2026-12 has not closed yet"):
        scorecard_month("2026-12", date(2026, 12, 31))
    with pytest.raises(InvalidParameters, match="2027-01 has not closed yet"):
        scorecard_month("2027-01", date(2026, 12, 4))

    assert scorecard_month("2026-11", date(2026, 12, 1)) == Month(2026, 11)


def test_a_month_should_know_its_quarter_and_last_day() -> None:
    assert Month(2026, 2).last_day == date(2026, 2, 28)
    assert Month(2026, 12).quarter == Quarter(2026, 4)
    assert Month.parse("2026-09").label == "2026-09"
    with pytest.raises(ValueError, match="write it like '2026-11'"):
        Month.parse("2026-9")


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_every_optional_field_should_show_its_default_in_the_form(flow: Any) -> None:
    schema = parameter_schema(flow).model_dump_for_openapi()
    required = set(schema.get("required", []))

    for name, field in schema["properties"].items():
        assert name in required or "default" in field, name
        assert field.get("description"), f"{flow.name}.{name} has no help text"


TODAY = date(2026, 10, 10)


def test_settlement_quarter_should_default_to_the_last_closed_quarter() -> None:
    assert settlement_quarter(None, None, date(2026, 10, 10)) == Quarter(2026, 3)
    assert settlement_quarter(None, date(2026, 4, 1), date(2026, 10, 10)) == Quarter(
        2026, 1
    )
    assert settlement_quarter("2025Q4", None, date(2026, 10, 10)) == Quarter(2025, 4)


def test_settlement_quarter_should_refuse_a_period_and_a_date_together() -> None:
    with pytest.raises(InvalidParameters, match="not both"):
        settlement_quarter("2026Q2", date(2026, 10, 10), date(2026, 10, 10))


def test_settlement_quarter_should_refuse_a_quarter_that_has_not_ended() -> None:
    with pytest.raises(InvalidParameters, match="2026Q4 has not closed yet"):
        settlement_quarter("2026Q4", None, date(2026, 12, 31))
    with pytest.raises(InvalidParameters, match="2026Q4 has not closed yet"):
        settlement_quarter(None, date(2027, 2, 1), date(2026, 12, 4))

    assert settlement_quarter("2026Q4", None, date(2027, 1, 1)) == Quarter(2026, 4)


def test_backfill_quarters_should_refuse_to_end_in_an_open_quarter() -> None:
    with pytest.raises(InvalidParameters, match="2026Q4 has not closed yet"):
        backfill_quarters("2026Q1", "2026Q4", TODAY)


def test_backfill_quarters_should_run_oldest_first_across_a_year_end() -> None:
    quarters = backfill_quarters("2025Q3", "2026Q2", TODAY)

    assert [q.label for q in quarters] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]


def test_backfill_quarters_should_refuse_a_range_given_backwards() -> None:
    with pytest.raises(InvalidParameters, match="oldest quarter first"):
        backfill_quarters("2026Q2", "2025Q3", TODAY)


def test_backfill_quarters_should_refuse_more_than_ten_years() -> None:
    with pytest.raises(InvalidParameters, match="41 quarters"):
        backfill_quarters("2016Q1", "2026Q1", TODAY)


@pytest.mark.parametrize(
    ("flow", "parameters", "hint"),
    [
        (quarterly_settlement, {"period": "2026Q5"}, "a quarter like 2026Q3"),
        (quarterly_settlement, {"period": "2026q3"}, "a quarter like 2026Q3"),
        (
            quarterly_settlement,
            {"publish_despite_warnings": " "},
            "a reason of at least four visible characters",
        ),
        (
            resend_statement,
            {"period": "2026Q3", "partner_id": "P1", "version": 1, "request": ""},
            "a reference of 3 to 64",
        ),
    ],
)
def test_the_command_line_should_say_what_a_refused_value_should_be(
    flow: Any, parameters: dict[str, Any], hint: str
) -> None:
    from prefect.exceptions import ParameterTypeError

    with pytest.raises(ParameterTypeError) as refused:
        flow.validate_parameters(parameters)
    message = explain_refusal(str(refused.value))

    assert hint in message
    assert "should match pattern" not in message

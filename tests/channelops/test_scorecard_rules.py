"""Tests for the scorecard, tier, warning and SLA rules (channelops.rules.scorecard)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from channelops.errors import ConfigError
from channelops.rules import load_scorecard
from channelops.rules.scorecard import DEFAULT_SLA, scorecard_tables
from channelops.settings import DEFAULT_CONFIG_DIR


def _sla_rejection(config_dir: Path, old: str, new: str) -> str:
    config_dir.mkdir(parents=True, exist_ok=True)
    for name in ("scorecard.yml", "sla.yml"):
        text = (DEFAULT_CONFIG_DIR / name).read_text("utf-8")
        if name == "sla.yml":
            assert old in text
            text = text.replace(old, new, 1)
        (config_dir / name).write_text(text, "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_scorecard(config_dir)
    message = str(caught.value)
    assert message.startswith(f"{config_dir / 'sla.yml'}: ")
    return message


def test_repository_rules_should_load_with_hysteresis_and_sla_programs() -> None:
    rules = load_scorecard(DEFAULT_CONFIG_DIR)

    assert (rules.hysteresis.promote_after, rules.hysteresis.demote_after) == (2, 2)
    assert rules.missing_metrics == "reweight"
    assert rules.sla is not None
    assert [(p.program, p.clock) for p in rules.sla.programs] == [
        ("standard", "business"),
        ("master_distributors", "calendar"),
    ]
    assert [t.tier for t in rules.ordered_tiers()] == ["ordinary", "growth", "core"]


def test_working_hours_should_skip_holidays_and_keep_weekend_days_worked() -> None:
    rules = load_scorecard(DEFAULT_CONFIG_DIR)
    assert rules.sla is not None
    (calendar,) = rules.sla.calendars
    spans = {day: (start, end) for day, start, end in calendar.working_spans()}

    # National Day 2025-10-01..08 is off; Saturday 2025-10-11 is worked.
    assert date(2025, 10, 1) not in spans
    assert date(2025, 10, 8) not in spans
    assert date(2025, 10, 4) not in spans
    assert date(2025, 10, 11) in spans
    # 09:00-18:00 Beijing time is 01:00-10:00 UTC, as the warehouse stores it.
    assert spans[date(2025, 10, 9)] == (
        datetime(2025, 10, 9, 1, 0),
        datetime(2025, 10, 9, 10, 0),
    )


def test_rules_should_become_config_tables_for_dbt() -> None:
    tables = scorecard_tables(load_scorecard(DEFAULT_CONFIG_DIR))

    programs = tables["config.sla_programs"][1].to_pylist()
    assert {(p["sla_program"], p["partner_type"]) for p in programs} == {
        ("standard", None),
        ("master_distributors", "总代理"),
    }
    tiers = tables["config.scorecard_tiers"][1].to_pylist()
    assert [(t["tier"], t["tier_level"]) for t in tiers] == [
        ("ordinary", 0),
        ("growth", 1),
        ("core", 2),
        ("insufficient_data", None),
    ]
    resources = tables["config.scorecard_tier_resources"][1].num_rows
    assert resources == 7


def test_missing_sla_file_should_mean_24_calendar_hours(tmp_path: Path) -> None:
    (tmp_path / "scorecard.yml").write_text(
        (DEFAULT_CONFIG_DIR / "scorecard.yml").read_text("utf-8"), "utf-8"
    )

    assert load_scorecard(tmp_path).sla == DEFAULT_SLA


def test_business_program_naming_an_unknown_calendar_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _sla_rejection(tmp_path, "calendar: cn_office\n", "calendar: hk\n")

    assert "'standard' names calendar 'hk'" in message


def test_two_default_programs_should_be_rejected(tmp_path: Path) -> None:
    message = _sla_rejection(tmp_path, "    partner_types: [总代理]\n", "")

    assert "exactly one program must leave partner_types empty" in message


def test_unknown_time_zone_should_be_rejected(tmp_path: Path) -> None:
    message = _sla_rejection(
        tmp_path, "timezone: Asia/Shanghai", "timezone: Beijing/Time"
    )

    assert "'Beijing/Time' is not an IANA time zone" in message

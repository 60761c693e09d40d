"""Tiers partners were told stay as told when the tier rules change.

A small demo network is built on DuckDB; 2026Q2's statements are published
and 2026-05's scorecards queued, which records their tiers. Then the tier
thresholds are lowered and the models rebuilt: the recorded periods keep
their tiers and rules version, the others follow the new thresholds.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from channelops.demo import generate_demo
from channelops.outbox import queue_scorecards
from channelops.periods import Quarter
from channelops.publish import publish_statements
from channelops.pull import pull
from channelops.rules import load_scorecard
from channelops.settings import DEFAULT_CONFIG_DIR, Settings
from channelops.tier_records import record_tiers
from channelops.transform import build_models, load_rules
from channelops.warehouse import Warehouse
from tests.conftest import throwaway_postgres_database

Key = tuple[str, str, str]
# Lower thresholds: most partners would qualify for a higher tier.
OLD_THRESHOLDS = ("    min_score: 75\n", "    min_score: 50\n")
NEW_THRESHOLDS = ("    min_score: 40\n", "    min_score: 20\n")


@dataclass(frozen=True)
class Rebuilt:
    settings: Settings
    records: list[dict[str, Any]]
    before: dict[Key, dict[str, Any]]
    after: dict[Key, dict[str, Any]]
    old_version: str
    new_version: str


def tier_history(settings: Settings) -> dict[Key, dict[str, Any]]:
    with Warehouse(settings) as warehouse:
        rows = warehouse.query_dicts("select * from marts.fct_partner_tier_history")
    return {(r["partner_id"], r["grain"], r["period"]): r for r in rows}


def records(settings: Settings) -> list[dict[str, Any]]:
    with Warehouse(settings) as warehouse:
        return warehouse.query_dicts(
            "select * from ops.partner_tier_records order by partner_id, grain, period"
        )


@pytest.fixture(
    scope="module",
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def rebuilt(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rebuilt]:
    """The demo built, published, rebuilt under lower thresholds: per engine."""
    with ExitStack() as stack:
        home = tmp_path_factory.mktemp(f"tier_records_{request.param}")
        config_dir = home / "config"
        shutil.copytree(DEFAULT_CONFIG_DIR, config_dir)
        generate_demo(home / "inbox", partner_count=12, last_quarter="2026Q3")
        if request.param == "postgres":
            database = stack.enter_context(throwaway_postgres_database("tiers"))
            settings = Settings(
                env="prod",
                home=home,
                drop_dir=home / "inbox",
                config_dir=config_dir,
                pg_database=database,
            )
        else:
            settings = Settings(
                env="local", home=home, drop_dir=home / "inbox", config_dir=config_dir
            )
        yield _publish_then_rebuild(settings, config_dir)


def _publish_then_rebuild(settings: Settings, config_dir: Path) -> Rebuilt:
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id="tiers")
        load_rules(settings, warehouse)
    build_models(settings)
    old_version = load_scorecard(config_dir).tier_rules_version()
    with Warehouse(settings) as warehouse:
        publish_statements(settings, warehouse, Quarter.parse("2026Q2"), run_id="t")
        queue_scorecards(settings, warehouse, "2026-05")
    before = tier_history(settings)

    rules_file = config_dir / "scorecard.yml"
    text = rules_file.read_text("utf-8")
    for old, new in zip(OLD_THRESHOLDS, NEW_THRESHOLDS, strict=True):
        assert text.count(old) == 1
        text = text.replace(old, new)
    rules_file.write_text(text, "utf-8")
    with Warehouse(settings) as warehouse:
        load_rules(settings, warehouse)
    build_models(settings)
    return Rebuilt(
        settings=settings,
        records=records(settings),
        before=before,
        after=tier_history(settings),
        old_version=old_version,
        new_version=load_scorecard(config_dir).tier_rules_version(),
    )


def test_publishing_should_record_each_told_tier_once_with_the_rules_version(
    rebuilt: Rebuilt,
) -> None:
    told = {(r["partner_id"], r["grain"], r["period"]) for r in rebuilt.records}

    assert len(told) == len(rebuilt.records)
    assert {(grain, period) for _, grain, period in told} == {
        ("quarter", "2026Q2"),
        ("month", "2026-05"),
    }
    assert len([k for k in told if k[1] == "month"]) > 6
    for record in rebuilt.records:
        key = (record["partner_id"], record["grain"], record["period"])
        assert record["tier_rules_version"] == rebuilt.old_version
        assert record["tier"] == rebuilt.before[key]["tier"]
        assert record["up_streak"] == rebuilt.before[key]["periods_qualifying_higher"]
        assert record["down_streak"] == rebuilt.before[key]["periods_below_tier"]


def test_a_threshold_change_should_not_rewrite_a_recorded_period(
    rebuilt: Rebuilt,
) -> None:
    assert rebuilt.new_version != rebuilt.old_version
    for record in rebuilt.records:
        key = (record["partner_id"], record["grain"], record["period"])
        after = rebuilt.after[key]
        assert after["tier"] == record["tier"], key
        assert after["is_tier_recorded"] is True
        assert after["tier_rules_version"] == rebuilt.old_version
    # The new thresholds do move unrecorded periods: the test is not vacuous.
    moved = [
        key
        for key, row in rebuilt.after.items()
        if not row["is_tier_recorded"] and row["tier"] != rebuilt.before[key]["tier"]
    ]
    assert moved
    # And a recorded period's score tier follows today's rules.
    assert any(
        rebuilt.after[(r["partner_id"], r["grain"], r["period"])]["score_tier"]
        != r["score_tier"]
        for r in rebuilt.records
    )


def test_recording_a_period_again_should_keep_the_first_record(
    rebuilt: Rebuilt,
) -> None:
    partners = {r["partner_id"] for r in rebuilt.records if r["grain"] == "month"}

    with Warehouse(rebuilt.settings) as warehouse, warehouse.transaction():
        again = record_tiers(warehouse, "2026-05", partners, recorded_for="again")

    assert again == 0
    assert records(rebuilt.settings) == rebuilt.records

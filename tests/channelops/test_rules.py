"""Tests for channelops.rules: rebate program and scorecard files."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from channelops.errors import ConfigError
from channelops.rules import (
    load_adjustments,
    load_programs,
    load_scorecard,
    write_rules,
)
from channelops.rules.programs import RebateProgram, program_tables
from channelops.settings import DEFAULT_CONFIG_DIR, Settings
from channelops.warehouse import Warehouse

PROGRAM = """\
program_id: {program_id}
name: 季度销量返利
version: 1
effective_from: 2024-01-01
calculation: retroactive
tiers:
{tiers}
"""
GOOD_TIERS = """\
  - {name: 基础档, from: 0, to: 200000, rate: 0.01}
  - {name: 银牌档, from: 200000, to: 800000, rate: 0.02}
  - {name: 金牌档, from: 800000, rate: 0.03}
"""


def _program_file(
    config_dir: Path,
    tiers: str = GOOD_TIERS,
    program_id: str = "quarterly_volume",
    name: str = "volume.yml",
) -> Path:
    folder = config_dir / "programs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(PROGRAM.format(program_id=program_id, tiers=tiers), "utf-8")
    return path


def _program_rejection(config_dir: Path, tiers: str) -> str:
    path = _program_file(config_dir, tiers)
    with pytest.raises(ConfigError) as caught:
        load_programs(config_dir)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message


def _scorecard_rejection(config_dir: Path, old: str, new: str) -> str:
    config_dir.mkdir(parents=True, exist_ok=True)
    text = (DEFAULT_CONFIG_DIR / "scorecard.yml").read_text("utf-8")
    assert old in text
    path = config_dir / "scorecard.yml"
    path.write_text(text.replace(old, new, 1), "utf-8")
    with pytest.raises(ConfigError) as caught:
        load_scorecard(config_dir)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message


def test_repository_programs_should_load() -> None:
    programs = {p.program_id: p for p in load_programs(DEFAULT_CONFIG_DIR)}
    program = programs["quarterly_volume"]

    assert sorted(programs) == [
        "accessories_per_unit",
        "annual_volume",
        "growth",
        "quarterly_performance",
        "quarterly_volume",
    ]
    assert programs["annual_volume"].accumulation == "year"
    assert programs["accessories_per_unit"].banding == "incremental"
    assert program.tiers is not None
    assert program.calculation == "retroactive"
    assert [(t.lower, t.upper, t.rate) for t in program.tiers] == [
        (Decimal(0), Decimal(200000), Decimal("0.01")),
        (Decimal(200000), Decimal(800000), Decimal("0.02")),
        (Decimal(800000), None, Decimal("0.03")),
    ]


def test_repository_scorecard_should_load_with_weights_summing_to_one() -> None:
    scorecard = load_scorecard(DEFAULT_CONFIG_DIR)

    assert sum(m.weight for m in scorecard.metrics) == 1
    assert scorecard.min_metrics == 4
    assert [t.tier for t in scorecard.tiers] == ["core", "growth", "ordinary"]


def test_tier_table_with_a_gap_should_be_rejected_naming_the_tier(
    tmp_path: Path,
) -> None:
    tiers = GOOD_TIERS.replace("from: 200000, to: 800000", "from: 250000, to: 800000")

    message = _program_rejection(tmp_path, tiers)

    assert "tiers.1.from: gap between 200000 and 250000" in message


def test_tier_table_with_an_overlap_should_be_rejected_naming_the_tier(
    tmp_path: Path,
) -> None:
    tiers = GOOD_TIERS.replace("from: 800000, rate", "from: 700000, rate")

    message = _program_rejection(tmp_path, tiers)

    assert "tiers.2.from: overlap between 800000 and 700000" in message


def test_tier_table_with_a_closed_top_tier_should_be_rejected_naming_the_tier(
    tmp_path: Path,
) -> None:
    tiers = GOOD_TIERS.replace("from: 800000, rate", "from: 800000, to: 900000, rate")

    message = _program_rejection(tmp_path, tiers)

    assert "tiers.2.to: the top tier must be open" in message


def test_tier_table_not_starting_at_zero_should_be_rejected_naming_the_tier(
    tmp_path: Path,
) -> None:
    tiers = GOOD_TIERS.replace("from: 0,", "from: 1000,")

    message = _program_rejection(tmp_path, tiers)

    assert "tiers.0.from: the first tier must start at 0, got 1000" in message


def test_open_tier_before_the_last_should_be_rejected_naming_the_tier(
    tmp_path: Path,
) -> None:
    tiers = GOOD_TIERS.replace("from: 200000, to: 800000", "from: 200000")

    message = _program_rejection(tmp_path, tiers)

    assert "tiers.1.to: only the last tier may be open-ended" in message


def test_tier_ending_below_its_start_should_be_rejected_naming_the_tier(
    tmp_path: Path,
) -> None:
    tiers = GOOD_TIERS.replace("from: 0, to: 200000", "from: 0, to: 0")

    message = _program_rejection(tmp_path, tiers)

    assert "tiers.0: 'to' 0 is not above 'from' 0" in message


def test_rate_above_one_should_be_rejected_naming_the_key(tmp_path: Path) -> None:
    message = _program_rejection(tmp_path, GOOD_TIERS.replace("0.03", "3"))

    assert "tiers.2.rate" in message


def test_program_ending_before_it_starts_should_be_rejected(tmp_path: Path) -> None:
    path = _program_file(tmp_path)
    path.write_text(
        path.read_text("utf-8") + "effective_to: 2023-12-31\n", encoding="utf-8"
    )

    with pytest.raises(ConfigError, match="effective_to: before effective_from"):
        load_programs(tmp_path)


def test_scorecard_weights_not_summing_to_one_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _scorecard_rejection(tmp_path, "weight: 0.25", "weight: 0.20")

    assert "metrics: weights add up to 0.95, not 1" in message


def test_scorecard_metric_listed_twice_should_be_rejected(tmp_path: Path) -> None:
    message = _scorecard_rejection(
        tmp_path, "metric: activity_count", "metric: net_sales"
    )

    assert "metrics: a metric is listed twice" in message


def test_scorecard_without_a_zero_tier_should_be_rejected(tmp_path: Path) -> None:
    message = _scorecard_rejection(tmp_path, "min_score: 0\n", "min_score: 10\n")

    assert "tiers: one tier must start at min_score 0" in message


def test_missing_scorecard_should_be_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="scorecard.yml is missing"):
        load_scorecard(tmp_path)


def _version_file(config_dir: Path, name: str, version: int, dates: str) -> Path:
    folder = config_dir / "programs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        f"program_id: volume\nname: V\nversion: {version}\n{dates}\n"
        "calculation: percentage\nrate: 0.01\n",
        "utf-8",
    )
    return path


def _version_rejection(config_dir: Path, v1_dates: str, v2_dates: str) -> str:
    _version_file(config_dir, "volume.yml", 1, v1_dates)
    v2 = _version_file(config_dir, "volume_v2.yml", 2, v2_dates)
    with pytest.raises(ConfigError) as caught:
        load_programs(config_dir)
    message = str(caught.value)
    assert message.startswith(f"{v2}: ")
    return message


def test_versions_of_a_program_over_successive_quarters_should_load(
    tmp_path: Path,
) -> None:
    _version_file(
        tmp_path,
        "volume.yml",
        1,
        "effective_from: 2026-02-15\neffective_to: 2026-06-30",
    )
    _version_file(tmp_path, "volume_v2.yml", 2, "effective_from: 2026-07-01")

    programs = load_programs(tmp_path)

    assert [p.program_key for p in programs] == ["volume@v1", "volume@v2"]


def test_versions_whose_dates_overlap_should_be_rejected(tmp_path: Path) -> None:
    message = _version_rejection(
        tmp_path, "effective_from: 2026-01-01", "effective_from: 2026-07-01"
    )

    assert "effective_from: 2026-07-01 overlaps volume v1 in " in message
    assert "(2026-01-01 to open-ended); set that version's effective_to" in message


def test_versions_sharing_a_quarter_should_be_rejected(tmp_path: Path) -> None:
    message = _version_rejection(
        tmp_path,
        "effective_from: 2026-01-01\neffective_to: 2026-05-14",
        "effective_from: 2026-05-15",
    )

    assert "effective_from: 2026-05-15 shares 2026Q2 with volume v1" in message
    assert "start v2 on 2026-07-01 or end v1 by 2026-03-31" in message


def test_the_same_version_declared_twice_should_be_rejected(tmp_path: Path) -> None:
    _program_file(tmp_path, name="a.yml")
    second = _program_file(tmp_path, name="b.yml")

    with pytest.raises(ConfigError) as caught:
        load_programs(tmp_path)

    assert str(caught.value).startswith(
        f"{second}: version: quarterly_volume v1 is also declared in "
    )


def test_empty_programs_folder_should_be_rejected(tmp_path: Path) -> None:
    (tmp_path / "programs").mkdir()

    with pytest.raises(ConfigError, match="no rebate program files in"):
        load_programs(tmp_path)


def test_written_rules_should_replace_the_config_tables(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, config_dir)
    programs = load_programs(config_dir)
    scorecard = load_scorecard(config_dir)

    with Warehouse(Settings()) as warehouse:
        warehouse.ensure_schema()
        write_rules(warehouse, programs, scorecard)
        write_rules(warehouse, programs, scorecard)

        tiers = warehouse.query(
            "select tier_no, lower_bound, upper_bound, rate "
            "from config.rebate_tiers where program_key = 'quarterly_volume@v1' "
            "order by tier_no"
        )
        metrics = warehouse.query("select count(*) from config.scorecard_metrics")

    assert tiers == [
        (1, Decimal("0.000"), Decimal("200000.000"), Decimal("0.010000")),
        (2, Decimal("200000.000"), Decimal("800000.000"), Decimal("0.020000")),
        (3, Decimal("800000.000"), None, Decimal("0.030000")),
    ]
    assert metrics == [(9,)]


def _program_text_rejection(config_dir: Path, text: str) -> str:
    folder = config_dir / "programs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "program.yml"
    path.write_text(
        "program_id: p\nname: P\nversion: 1\neffective_from: 2026-01-01\n" + text,
        "utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_programs(config_dir)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    return message


def test_per_unit_on_net_sales_should_be_rejected(tmp_path: Path) -> None:
    message = _program_text_rejection(
        tmp_path,
        "calculation: per_unit\ntiers:\n  - {name: a, from: 0, per_unit: 1}\n",
    )

    assert "basis: calculation 'per_unit' needs basis 'quantity'" in message


def test_a_quantity_tier_without_a_per_unit_amount_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _program_text_rejection(
        tmp_path,
        "basis: quantity\ncalculation: incremental\n"
        "tiers:\n  - {name: a, from: 0, rate: 0.1}\n",
    )

    assert "tiers.0.per_unit: required, the basis is 'quantity'" in message


def test_a_fixed_target_without_its_amount_should_be_rejected(tmp_path: Path) -> None:
    message = _program_text_rejection(
        tmp_path, "calculation: fixed_target\ntarget: 100000\n"
    )

    assert "amount: required for calculation 'fixed_target'" in message


def test_a_field_the_calculation_does_not_read_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _program_text_rejection(
        tmp_path, "calculation: growth\nrate: 0.05\ntarget: 100\n"
    )

    assert "target: not used by calculation 'growth'" in message


def test_an_unknown_rounding_rule_should_be_rejected(tmp_path: Path) -> None:
    message = _program_text_rejection(
        tmp_path, "calculation: percentage\nrate: 0.05\nrounding: bankers\n"
    )

    assert "rounding: Input should be 'half_up_fen'" in message


def test_every_calculation_kind_should_reach_its_normal_form() -> None:
    fixed = _program(calculation="fixed_target", target=100000, amount=1000)
    growth = _program(calculation="growth", rate="0.05")

    assert [tuple(t) for t in fixed.normal_tiers()] == [
        ("below target", 0, 100000, 0, 0),
        ("target reached", 100000, None, 0, 1000),
    ]
    assert (fixed.banding, fixed.measure) == ("retroactive", "volume")
    assert [tuple(t) for t in growth.normal_tiers()] == [
        ("growth", 0, None, Decimal("0.05"), 0)
    ]
    assert growth.measure == "growth"


def _program(**fields: object) -> RebateProgram:
    return RebateProgram.model_validate(
        {
            "program_id": "p",
            "name": "P",
            "version": 1,
            "effective_from": "2026-01-01",
            **fields,
        }
    )


ADJUSTMENT = """\
adjustments:
  - adjustment_id: ADJ-1
    partner_id: P0007
    period: {period}
    amount: 200.00
    reason: display bonus
    approval: approved
{approved_by}"""


@pytest.mark.parametrize(
    ("period", "approved_by", "expected"),
    [
        (
            "2026Q5",
            "    approved_by: finance\n",
            "period: expected a quarter like",
        ),
        (
            "2026Q3",
            "",
            "approved_by: an approved adjustment names who approved it",
        ),
    ],
)
def test_a_bad_adjustment_should_be_rejected_naming_file_and_key(
    tmp_path: Path, period: str, approved_by: str, expected: str
) -> None:
    path = tmp_path / "adjustments.yml"
    path.write_text(ADJUSTMENT.format(period=period, approved_by=approved_by))

    with pytest.raises(ConfigError) as caught:
        load_adjustments(tmp_path)

    assert str(caught.value).startswith(f"{path}: adjustments.0")
    assert expected in str(caught.value)


def test_repository_adjustments_should_load_with_one_approved() -> None:
    adjustments = load_adjustments(DEFAULT_CONFIG_DIR)

    assert [a.approval for a in adjustments] == ["approved", "in_review"]


def test_a_new_customer_bonus_pays_per_customer_or_a_rate_on_their_sales(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "programs"
    folder.mkdir()
    head = "name: 新客户奖励\nversion: 1\neffective_from: 2026-01-01\n"
    (folder / "per_customer.yml").write_text(
        "program_id: per_customer\n" + head + "basis: new_customers\n"
        "calculation: per_unit\n"
        "tiers:\n  - {name: 每位新客户, from: 0, per_unit: 200}\n",
        "utf-8",
    )
    (folder / "on_sales.yml").write_text(
        "program_id: on_sales\n" + head + "basis: new_customer_sales\n"
        "calculation: percentage\nrate: 0.02\n",
        "utf-8",
    )

    programs = {p.program_id: p for p in load_programs(tmp_path)}

    assert programs["per_customer"].counts_units
    assert programs["per_customer"].normal_tiers()[0].rate == Decimal("200")
    assert not programs["on_sales"].counts_units
    assert programs["on_sales"].normal_tiers()[0].rate == Decimal("0.02")


def test_a_new_customer_tier_with_a_rate_should_be_rejected(tmp_path: Path) -> None:
    message = _program_text_rejection(
        tmp_path,
        "basis: new_customers\ncalculation: retroactive\n"
        "tiers:\n  - {name: a, from: 0, rate: 0.01}\n",
    )

    assert "tiers.0.per_unit: required, the basis is 'new_customers'" in message


def test_a_co_marketing_bonus_pays_a_share_of_spend_or_per_activity(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "programs"
    folder.mkdir()
    head = "name: 市场共建\nversion: 1\neffective_from: 2026-01-01\n"
    (folder / "share.yml").write_text(
        "program_id: share\n" + head + "basis: co_marketing_spend\n"
        "calculation: percentage\nrate: 0.5\ncap: 100000\n"
        "scope: {regions: [华东]}\n",
        "utf-8",
    )
    (folder / "per_activity.yml").write_text(
        "program_id: per_activity\n" + head + "basis: co_marketing_activities\n"
        "calculation: per_unit\n"
        "tiers:\n  - {name: 每项活动, from: 0, per_unit: 3000}\n",
        "utf-8",
    )

    programs = {p.program_id: p for p in load_programs(tmp_path)}

    assert programs["share"].cap == Decimal("100000")
    assert programs["per_activity"].counts_units


def test_a_co_marketing_basis_scoped_by_product_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _program_text_rejection(
        tmp_path,
        "basis: co_marketing_spend\ncalculation: percentage\nrate: 0.5\n"
        "scope: {product_categories: [厨房电器]}\n",
    )

    assert "scope.product_categories: activities have no products" in message


def test_a_parent_override_share_is_a_rate_on_sub_distributors_sales(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "programs"
    folder.mkdir()
    (folder / "override.yml").write_text(
        "program_id: override\nname: 上级分成\nversion: 1\n"
        "effective_from: 2026-01-01\nbasis: sub_distributor_sales\n"
        "calculation: percentage\nrate: 0.01\n",
        "utf-8",
    )

    (program,) = load_programs(tmp_path)

    assert program.basis == "sub_distributor_sales"
    assert not program.counts_units
    assert program.normal_tiers()[0].rate == Decimal("0.01")


def test_a_rate_on_a_count_of_new_customers_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _program_text_rejection(
        tmp_path, "basis: new_customers\ncalculation: percentage\nrate: 0.5\n"
    )

    assert "rate: basis 'new_customers' is a count" in message


PERFORMANCE_TIERS = """\
basis: target_attainment
calculation: retroactive
tiers:
  - {name: 未达成, from: 0, to: 1.00, rate: 0}
  - {name: 达成, from: 1.00, to: 1.20, rate: 0.01}
  - {name: 超额, from: 1.20, rate: 0.02, amount: 3000}
"""


def test_a_performance_bonus_pays_a_rate_or_an_amount_on_attainment_tiers(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "programs"
    folder.mkdir()
    (folder / "performance.yml").write_text(
        "program_id: performance\nname: 季度业绩达成奖\nversion: 1\n"
        "effective_from: 2026-01-01\n" + PERFORMANCE_TIERS,
        "utf-8",
    )

    (program,) = load_programs(tmp_path)

    assert program.banding == "retroactive"
    assert [(t.lower, t.rate, t.fixed_amount) for t in program.normal_tiers()] == [
        (Decimal("0"), Decimal("0"), Decimal("0")),
        (Decimal("1.00"), Decimal("0.01"), Decimal("0")),
        (Decimal("1.20"), Decimal("0.02"), Decimal("3000")),
    ]


def test_a_performance_bonus_accumulated_over_a_year_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _program_text_rejection(
        tmp_path, "accumulation: year\n" + PERFORMANCE_TIERS
    )

    assert "accumulation: basis 'target_attainment' pays the tier" in message
    assert "it needs accumulation 'quarter', got 'year'" in message


def test_an_attainment_tier_paying_nothing_declared_should_be_rejected(
    tmp_path: Path,
) -> None:
    message = _program_text_rejection(
        tmp_path,
        PERFORMANCE_TIERS.replace(
            "{name: 达成, from: 1.00, to: 1.20, rate: 0.01}",
            "{name: 达成, from: 1.00, to: 1.20}",
        ),
    )

    assert "tiers.1: give 'rate' (of the quarter's net sales) or 'amount'" in message


def test_a_tier_amount_on_a_sales_basis_should_be_rejected(tmp_path: Path) -> None:
    message = _program_rejection(
        tmp_path,
        "  - {name: 基础档, from: 0, to: 200000, rate: 0.01}\n"
        "  - {name: 金牌档, from: 200000, rate: 0.02, amount: 500}\n",
    )

    assert "tiers.1.amount: a fixed amount per tier is for basis" in message


TRIPLE_COMPONENTS = """\
cap: 30000
components:
  - component_id: volume
    name: 销量返利
    calculation: percentage
    rate: 0.01
  - component_id: new_customers
    name: 新客户奖励
    basis: new_customers
    calculation: per_unit
    tiers:
      - {name: 每位新客户, from: 0, per_unit: 200}
  - component_id: co_marketing
    name: 市场共建奖励
    basis: co_marketing_spend
    calculation: percentage
    rate: 0.5
    cap: 10000
"""


def test_a_program_with_components_computes_one_line_per_component(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "programs"
    folder.mkdir()
    (folder / "triple.yml").write_text(
        "program_id: triple\nname: 三重激励\nversion: 2\n"
        "effective_from: 2026-01-01\n" + TRIPLE_COMPONENTS,
        "utf-8",
    )

    (program,) = load_programs(tmp_path)
    rows = program_tables([program])["config.rebate_programs"][1].to_pylist()

    assert [
        (r["program_key"], r["line_item_id"], r["component_no"], r["basis"])
        for r in rows
    ] == [
        ("triple@v2:volume", "triple:volume", 1, "net_sales"),
        ("triple@v2:new_customers", "triple:new_customers", 2, "new_customers"),
        ("triple@v2:co_marketing", "triple:co_marketing", 3, "co_marketing_spend"),
    ]
    assert [(r["cap_amount"], r["program_cap_amount"]) for r in rows] == [
        (None, Decimal("30000.00")),
        (None, Decimal("30000.00")),
        (Decimal("10000.00"), Decimal("30000.00")),
    ]


def test_a_rule_field_beside_components_should_be_rejected(tmp_path: Path) -> None:
    message = _program_text_rejection(
        tmp_path, "calculation: percentage\n" + TRIPLE_COMPONENTS
    )

    assert "calculation: a program with components declares it in each" in message


def test_a_bad_component_should_be_rejected_naming_its_key(tmp_path: Path) -> None:
    message = _program_text_rejection(
        tmp_path, TRIPLE_COMPONENTS.replace("per_unit: 200", "rate: 0.5")
    )

    assert "components.1.tiers.0.per_unit: required" in message


def test_a_component_id_used_twice_should_be_rejected(tmp_path: Path) -> None:
    message = _program_text_rejection(
        tmp_path,
        TRIPLE_COMPONENTS.replace("component_id: co_marketing", "component_id: volume"),
    )

    assert "components.2.component_id: 'volume' is used twice" in message


def test_a_scope_naming_a_tier_the_scorecard_lacks_should_be_rejected(
    tmp_path: Path,
) -> None:
    shutil.copy(DEFAULT_CONFIG_DIR / "scorecard.yml", tmp_path / "scorecard.yml")
    message = _program_text_rejection(
        tmp_path,
        "calculation: percentage\nrate: 0.01\nscope: {partner_tiers: [core, gold]}\n",
    )

    assert (
        "scope.partner_tiers: 'gold' is not a scorecard tier; expected one" in message
    )
    assert "core, growth, ordinary, insufficient_data (scorecard.yml)" in message


def test_a_component_scoped_by_an_unknown_tier_should_be_rejected_by_its_key(
    tmp_path: Path,
) -> None:
    shutil.copy(DEFAULT_CONFIG_DIR / "scorecard.yml", tmp_path / "scorecard.yml")
    message = _program_text_rejection(
        tmp_path,
        TRIPLE_COMPONENTS.replace(
            "    rate: 0.5\n", "    rate: 0.5\n    scope: {partner_tiers: [vip]}\n"
        ),
    )

    assert "components.2.scope.partner_tiers: 'vip' is not a scorecard tier" in message


def test_rules_written_again_keep_the_views_over_their_tables(tmp_path: Path) -> None:
    programs = load_programs(DEFAULT_CONFIG_DIR)
    scorecard = load_scorecard(DEFAULT_CONFIG_DIR)

    with Warehouse(Settings(home=tmp_path)) as warehouse:
        warehouse.ensure_schema()
        write_rules(warehouse, programs, scorecard)
        warehouse.execute(
            "create view config.program_names as "
            "select program_key from config.rebate_programs"
        )
        warehouse.execute("alter table config.rebate_tiers drop column fixed_amount")
        write_rules(warehouse, programs[:1], scorecard)

        names = warehouse.query("select program_key from config.program_names")
        tiers = warehouse.query("select count(fixed_amount) from config.rebate_tiers")

    assert names == [(programs[0].program_key,)]
    assert tiers == [(len(programs[0].normal_tiers()),)]

"""gate.yml: defaults, a valid file, and bad files named by file, key and reason."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from channelops.errors import ConfigError
from channelops.settings import DEFAULT_CONFIG_DIR
from expectations.config import GateConfig, load_gate_config


def write_gate(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gate.yml").write_text(text, encoding="utf-8")
    return folder


def test_missing_file_should_mean_the_defaults(tmp_path: Path) -> None:
    assert load_gate_config(tmp_path) == GateConfig()


def test_shipped_file_should_state_the_defaults() -> None:
    assert load_gate_config(DEFAULT_CONFIG_DIR) == GateConfig()


def test_values_should_be_read_exactly(tmp_path: Path) -> None:
    folder = write_gate(
        tmp_path,
        "rebate_rate_ceiling: 0.045\n"
        "collapse_ratio: 0.25\n"
        "sales_jump: {factor: 3, min_increase: 1000.50}\n"
        "earliest_date: 2015-01-01\n"
        "future_days: 0\n",
    )

    config = load_gate_config(folder)

    assert config.rebate_rate_ceiling == Decimal("0.045")
    assert config.collapse_ratio == Decimal("0.25")
    assert config.sales_jump.min_increase == Decimal("1000.50")
    assert config.earliest_date == date(2015, 1, 1)
    assert config.future_days == 0


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("rebate_rate_ceiling: -0.1\n", "rebate_rate_ceiling"),
        ("rebate_rate_ceiling: 0.1234567\n", "rebate_rate_ceiling"),
        ("collapse_ratio: 1.5\n", "collapse_ratio"),
        ("collapse_ratio: 0\n", "collapse_ratio"),
        ("sales_jump: {factor: 1}\n", "sales_jump.factor"),
        ("sales_jump: {min_increase: 1.234}\n", "sales_jump.min_increase"),
        ("earliest_date: yesterday\n", "earliest_date"),
        ("future_days: 90\n", "future_days"),
        ("collapse_ratios: 0.5\n", "collapse_ratios"),
        ("empty_inputs: {payments: skip}\n", "empty_inputs.payments"),
        ("empty_inputs: {order_lines: warn}\n", "empty_inputs.order_lines"),
    ],
)
def test_bad_value_should_name_file_key_and_reason(
    tmp_path: Path, text: str, key: str
) -> None:
    folder = write_gate(tmp_path, text)

    with pytest.raises(ConfigError) as raised:
        load_gate_config(folder)

    message = str(raised.value)
    assert message.startswith(f"{folder / 'gate.yml'}: {key}: ")
    assert len(message) > len(f"{folder / 'gate.yml'}: {key}: ")


def test_file_that_is_not_yaml_should_be_rejected(tmp_path: Path) -> None:
    folder = write_gate(tmp_path, "collapse_ratio: [0.5\n")

    with pytest.raises(ConfigError, match="not valid YAML"):
        load_gate_config(folder)


def test_empty_inputs_should_be_read_per_input(tmp_path: Path) -> None:
    folder = write_gate(
        tmp_path, "empty_inputs:\n  payments: block\n  targets: ignore\n"
    )

    empty = load_gate_config(folder).empty_inputs

    assert (empty.payments, empty.targets, empty.feedback) == (
        "block",
        "ignore",
        "warn",
    )

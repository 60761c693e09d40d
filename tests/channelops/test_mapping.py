"""Tests for channelops.mapping: source mapping files checked against the contract."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from channelops.contract import DATASETS
from channelops.demo import DEMO_MAPPING
from channelops.errors import ConfigError
from channelops.mapping import FieldSource, load_mapping, load_mappings

PAYMENTS_FIELDS = """\
      payment_id: 回款单号
      partner_id: 经销商编码
      paid_date: 到账日期
      amount: 回款金额
"""


def _write(folder: Path, text: str, name: str = "erp.yml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _payments_mapping(extra_fields: str = "      currency: 币种\n") -> str:
    return (
        "name: erp\n"
        "datasets:\n"
        "  payments:\n"
        '    files: ["回款*.csv"]\n'
        "    fields:\n" + PAYMENTS_FIELDS + extra_fields
    )


def _rejection(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_demo_mapping_should_load_with_every_dataset() -> None:
    mapping = load_mapping(DEMO_MAPPING)

    assert mapping.name == "demo"
    assert set(mapping.datasets) == set(DATASETS)
    assert mapping.datasets["order_lines"].encoding == "gb18030"
    assert mapping.datasets["activities"].header_row == 2


def test_small_mapping_should_load_with_its_defaults(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, _payments_mapping()))
    payments = mapping.datasets["payments"]

    assert mapping.timezone == "Asia/Shanghai"
    assert payments.encoding == "auto"
    assert payments.header_row == 1
    assert payments.date_formats == ["%Y-%m-%d"]


def test_shorthand_string_should_mean_a_column(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, _payments_mapping()))

    assert mapping.datasets["payments"].fields["amount"] == FieldSource(
        column="回款金额"
    )


def test_unknown_dataset_should_be_rejected_naming_file_and_key(
    tmp_path: Path,
) -> None:
    text = _payments_mapping() + '  sales:\n    files: ["a.csv"]\n    fields: {}\n'

    message = _rejection(_write(tmp_path, text))

    assert "datasets.sales: unknown dataset 'sales'" in message
    assert "known: partners, partner_contacts, order_lines" in message


def test_unknown_field_should_be_rejected_naming_file_and_key(
    tmp_path: Path,
) -> None:
    text = _payments_mapping("      currency: 币种\n      payer: 付款人\n")

    message = _rejection(_write(tmp_path, text))

    assert "datasets.payments.fields: unknown field 'payer'" in message
    assert "contract fields: payment_id, partner_id" in message


def test_unmapped_required_field_should_be_rejected_naming_file_and_key(
    tmp_path: Path,
) -> None:
    message = _rejection(_write(tmp_path, _payments_mapping("")))

    assert "datasets.payments.fields: required field(s) not mapped: currency" in (
        message
    )


def test_values_target_outside_the_contract_should_be_rejected(
    tmp_path: Path,
) -> None:
    text = (
        "name: erp\n"
        "datasets:\n"
        "  feedback:\n"
        '    files: ["反馈.csv"]\n'
        "    fields:\n"
        "      feedback_id: 工单编号\n"
        "      partner_id: 经销商编码\n"
        "      created_at: 创建时间\n"
        "      kind:\n"
        "        column: 类型\n"
        "        values: {投诉: complaint, 表扬: praise}\n"
    )

    message = _rejection(_write(tmp_path, text))

    assert "datasets.feedback.fields.kind.values: ['praise'] not among" in message
    assert "'satisfaction_survey'" in message


def test_field_with_column_and_value_should_be_rejected_naming_the_key(
    tmp_path: Path,
) -> None:
    text = _payments_mapping("      currency: {column: 币种, value: CNY}\n")

    message = _rejection(_write(tmp_path, text))

    assert "datasets.payments.fields.currency" in message
    assert "give exactly one of column, template or value" in message


def test_field_with_no_origin_should_be_rejected_naming_the_key(
    tmp_path: Path,
) -> None:
    text = _payments_mapping("      currency: {default: CNY}\n")

    message = _rejection(_write(tmp_path, text))

    assert "datasets.payments.fields.currency" in message
    assert "give exactly one of column, template or value" in message


def test_unknown_option_should_be_rejected_naming_the_key(tmp_path: Path) -> None:
    text = _payments_mapping().replace("    fields:", "    sheet_name: x\n    fields:")

    message = _rejection(_write(tmp_path, text))

    assert "datasets.payments.sheet_name" in message


def test_unknown_rounding_should_be_rejected_naming_the_key(tmp_path: Path) -> None:
    text = _payments_mapping("      currency: {column: 币种, rounding: ceiling}\n")

    message = _rejection(_write(tmp_path, text))

    assert "datasets.payments.fields.currency.rounding" in message


def test_source_name_with_capitals_should_be_rejected(tmp_path: Path) -> None:
    text = _payments_mapping().replace("name: erp", "name: ERP")

    message = _rejection(_write(tmp_path, text))

    assert re.search(r"\bname: String should match pattern", message)


def test_invalid_yaml_should_be_rejected_naming_the_file(tmp_path: Path) -> None:
    message = _rejection(_write(tmp_path, "name: [erp\n"))

    assert "not valid YAML" in message


def test_sources_folder_without_files_should_be_rejected(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()

    with pytest.raises(ConfigError, match="no source mapping files in"):
        load_mappings(tmp_path)


def test_two_files_with_one_source_name_should_be_rejected(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    _write(sources, _payments_mapping(), "a.yml")
    _write(sources, _payments_mapping(), "b.yaml")

    with pytest.raises(ConfigError, match=r"source name\(s\) used twice: \['erp'\]"):
        load_mappings(tmp_path)


def test_template_should_name_the_columns_it_uses() -> None:
    source = FieldSource(template="{单号}-{行号}")

    assert source.columns_used() == ["单号", "行号"]
    assert FieldSource(value="CNY").columns_used() == []

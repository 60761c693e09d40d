"""One suite per raw input: the ``raw.<dataset>`` tables the pull stage loads.

Declared from the input contract (``channelops.contract``), so a field added
there is checked here without more code. Each suite checks its table's
shape (columns and types, key unique, required fields present, values the
contract allows, dates in a plausible range, the settlement currency), its
references (every row's partner is known), its reconciliation (per file:
rows read = loaded + quarantined, and both counts match the warehouse), what
the pull quarantined, and for dated inputs the period's completeness (rows
present, not collapsed against the previous period).

Order lines decide the money, so their problems block; the other inputs
feed scorecards and mail, so most of theirs warn (see ``_ROLES``). An
unknown partner blocks on order lines and payments, whose rows decide a
partner's rebate, and warns elsewhere; the references check reads the
rows the pull quarantined for an unknown partner as well as the loaded
ones, so it fires with that severity whichever way the row arrived.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from great_expectations.expectations.core.expect_column_values_to_be_between import (
    ExpectColumnValuesToBeBetween,
)
from great_expectations.expectations.core.expect_column_values_to_be_in_set import (
    ExpectColumnValuesToBeInSet,
)
from great_expectations.expectations.core.expect_column_values_to_be_unique import (
    ExpectColumnValuesToBeUnique,
)
from great_expectations.expectations.core.expect_compound_columns_to_be_unique import (
    ExpectCompoundColumnsToBeUnique,
)
from great_expectations.expectations.core.expect_table_row_count_to_be_between import (
    ExpectTableRowCountToBeBetween,
)

from channelops.contract import DATASETS, LOAD_ORDER, ContractField, Dataset, FieldType
from channelops.warehouse import LINEAGE_COLUMNS
from expectations.checks import (
    Batch,
    Check,
    Scope,
    Severity,
    Suite,
    Window,
    sql_check,
    sql_decimal,
    sql_text,
)
from expectations.suites.shape import Column, columns_check, contract_column

_DATE_TYPES = (FieldType.DATE, FieldType.TIMESTAMP)
_ROW_COLUMNS = ("_file_name", "_row_number")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _Role:
    """How an input matters to the settlement, which sets its severities."""

    # The date that puts a row in a quarter; None for master data.
    period_date: str | None = None
    # Its rows decide rebate amounts: quarantine, dates, currency block.
    settles_money: bool = False
    # An unknown partner on it blocks: order lines (the rebate basis) and
    # payments (collections decide eligibility); elsewhere it warns.
    reference_blocks: bool = False
    # The settlement cannot run without at least one row of it.
    required: bool = False


_ROLES = {
    "partners": _Role(required=True),
    "partner_contacts": _Role(),
    "order_lines": _Role(
        period_date="order_date",
        settles_money=True,
        reference_blocks=True,
        required=True,
    ),
    "payments": _Role(period_date="paid_date", reference_blocks=True),
    "feedback": _Role(period_date="created_at"),
    "activities": _Role(period_date="start_date"),
    "targets": _Role(),
}


def input_suites(scope: Scope) -> tuple[Suite, ...]:
    """A suite for each raw input of the contract, in loading order."""
    return tuple(
        _input_suite(DATASETS[name], _ROLES[name], scope) for name in LOAD_ORDER
    )


def _input_suite(dataset: Dataset, role: _Role, scope: Scope) -> Suite:
    checks = [
        _columns(dataset),
        _key_unique(dataset),
        _required_present(dataset),
        *_allowed_values(dataset),
        *_bounded_values(dataset),
        *_currency_known(dataset, role, scope),
        *_dates_in_range(dataset, role, scope),
        *_partner_known(dataset, role),
        _files_reconcile(dataset),
        _nothing_quarantined(dataset, role),
    ]
    presence = _presence_severity(dataset, role, scope)
    if presence is not None:
        checks.append(_present(dataset, presence))
    if role.period_date is not None:
        checks += _period_checks(dataset, role, scope)
    if dataset.name == "order_lines":
        checks.append(_no_duplicate_looking_orders(scope))
    return Suite(
        name=dataset.name,
        kind="input",
        guards=f"raw.{dataset.name}",
        checks=tuple(checks),
    )


def _table(dataset: Dataset) -> str:
    return f"raw.{dataset.name}"


def _whole(dataset: Dataset) -> Batch:
    return Batch(table=_table(dataset), key_columns=(*_ROW_COLUMNS, *dataset.key))


def _money_severity(role: _Role) -> Severity:
    return Severity.BLOCK if role.settles_money else Severity.WARN


def _file_row_hint(dataset: Dataset) -> str:
    return (
        f"fix the row in the {dataset.name} file named in the sample rows and "
        "put the corrected file in the drop folder; the next run reloads it"
    )


def _columns(dataset: Dataset) -> Check:
    columns = [contract_column(f) for f in dataset.fields]
    columns += [
        Column(name, "integer" if sql_type == "integer" else "text")
        for name, sql_type in LINEAGE_COLUMNS
    ]
    return columns_check(
        f"{dataset.name}_columns_match_contract",
        _table(dataset),
        columns,
        guards="the input contract",
        remedy=(
            f"{_table(dataset)} was changed outside channelops: restore each "
            "listed column's contract type (money stays decimal), or drop the "
            "table and delete its files' rows from ops.load_files so that the "
            "next run reloads every file."
        ),
    )


def _key_unique(dataset: Dataset) -> Check:
    key = ", ".join(dataset.key)
    description = f"No two rows of {_table(dataset)} share a key ({key})."
    remedy = (
        "Remove the duplicate from one of the files named in the sample rows; "
        "the pull normally quarantines duplicates, so also check how the rows "
        "got into the warehouse."
    )
    if len(dataset.key) == 1:
        return Check(
            name=f"{dataset.name}_key_unique",
            batch=_whole(dataset),
            severity=Severity.BLOCK,
            description=description,
            remedy=remedy,
            expectation=ExpectColumnValuesToBeUnique,
            arguments={"column": dataset.key[0]},
        )
    return Check(
        name=f"{dataset.name}_key_unique",
        batch=_whole(dataset),
        severity=Severity.BLOCK,
        description=description,
        remedy=remedy,
        expectation=ExpectCompoundColumnsToBeUnique,
        arguments={"column_list": list(dataset.key)},
    )


def _required_present(dataset: Dataset) -> Check:
    required = [f.name for f in dataset.fields if f.required]
    first_missing = "\n".join(
        f"        when input_row.{name} is null then {sql_text(name)}"
        for name in required
    )
    any_missing = "\n    or ".join(f"input_row.{name} is null" for name in required)
    return sql_check(
        f"{dataset.name}_required_fields_present",
        _whole(dataset),
        Severity.BLOCK,
        f"Every row of {_table(dataset)} has its required fields "
        f"({', '.join(required)}).",
        f"Fill in the empty field: {_file_row_hint(dataset)}.",
        f"""
select
    input_row._file_name,
    input_row._row_number,
    case
{first_missing}
    end as missing_field
from {{batch}} as input_row
cross join (select 1 as one) as gate_parameter
where
    {any_missing}
order by input_row._file_name, input_row._row_number
""",
    )


def _allowed_values(dataset: Dataset) -> list[Check]:
    return [
        Check(
            name=f"{dataset.name}_{field.name}_allowed",
            batch=_whole(dataset),
            severity=Severity.BLOCK,
            description=(
                f"Every {field.name} in {_table(dataset)} is one of "
                f"{', '.join(field.allowed)}."
            ),
            remedy=(
                f"Map the value to one of {', '.join(field.allowed)} in the "
                f"source mapping, or {_file_row_hint(dataset)}."
            ),
            expectation=ExpectColumnValuesToBeInSet,
            arguments={"column": field.name, "value_set": list(field.allowed)},
        )
        for field in dataset.fields
        if field.allowed
    ]


def _bounded_values(dataset: Dataset) -> list[Check]:
    return [
        _bounded(dataset, field)
        for field in dataset.fields
        if field.minimum is not None or field.maximum is not None
    ]


def _bounded(dataset: Dataset, field: ContractField) -> Check:
    arguments: dict[str, object] = {"column": field.name}
    bounds = []
    if field.minimum is not None:
        arguments["min_value"] = int(field.minimum)
        bounds.append(f"at least {field.minimum}")
    if field.maximum is not None:
        arguments["max_value"] = int(field.maximum)
        bounds.append(f"at most {field.maximum}")
    return Check(
        name=f"{dataset.name}_{field.name}_in_range",
        batch=_whole(dataset),
        severity=Severity.BLOCK,
        description=(
            f"Every {field.name} in {_table(dataset)} is {' and '.join(bounds)}."
        ),
        remedy=f"{_sign_hint(dataset)}{_file_row_hint(dataset)}.",
        expectation=ExpectColumnValuesToBeBetween,
        arguments=arguments,
    )


def _sign_hint(dataset: Dataset) -> str:
    if "line_type" in dataset.field_names:
        return "Returns and credits carry their line type, not a sign: "
    return "Correct the value: "


def _currency_known(dataset: Dataset, role: _Role, scope: Scope) -> list[Check]:
    if "currency" not in dataset.field_names:
        return []
    return [
        Check(
            name=f"{dataset.name}_currency_known",
            batch=_whole(dataset),
            severity=_money_severity(role),
            description=(
                f"Every currency in {_table(dataset)} is the settlement "
                f"currency {scope.currency}."
            ),
            remedy=(
                f"Convert the amounts to {scope.currency} before loading, or "
                "settle with the matching CHANNELOPS_CURRENCY; rows loaded under "
                "another currency setting must be reloaded."
            ),
            expectation=ExpectColumnValuesToBeInSet,
            arguments={"column": "currency", "value_set": [scope.currency]},
        )
    ]


def _dates_in_range(dataset: Dataset, role: _Role, scope: Scope) -> list[Check]:
    dates = [f.name for f in dataset.fields if f.type in _DATE_TYPES]
    if not dates:
        return []
    allowed = Window(scope.config.earliest_date, scope.latest_date + _ONE_DAY)
    first_bad = "\n".join(
        f"        when not ({allowed.condition('input_row.' + name)}) "
        f"then {sql_text(name)}"
        for name in dates
    )
    any_bad = "\n    or ".join(
        f"not ({allowed.condition('input_row.' + name)})" for name in dates
    )
    return [
        sql_check(
            f"{dataset.name}_dates_in_range",
            _whole(dataset),
            _money_severity(role),
            f"Every date in {_table(dataset)} ({', '.join(dates)}) lies within "
            f"{allowed}: not before gate.yml's earliest_date, not after the "
            "run date plus future_days.",
            "A date in the future or before earliest_date is a typing error "
            f"(wrong year, day zero): {_file_row_hint(dataset)}.",
            f"""
select
    input_row._file_name,
    input_row._row_number,
    case
{first_bad}
    end as date_field
from {{batch}} as input_row
cross join (select 1 as one) as gate_parameter
where
    {any_bad}
order by input_row._file_name, input_row._row_number
""",
        )
    ]


# How the pull records a row it took back for an unknown partner
# (channelops.pull; tests/expectations/test_unknown_partner.py runs the
# real pull against this).
_UNKNOWN_PARTNER_FIELD = "partner_id"
_UNKNOWN_PARTNER_REASON = "unknown partner%"


def _partner_known(dataset: Dataset, role: _Role) -> list[Check]:
    if "partner_id" not in dataset.field_names or dataset.name == "partners":
        return []
    return [
        sql_check(
            f"{dataset.name}_partner_known",
            _whole(dataset),
            Severity.BLOCK if role.reference_blocks else Severity.WARN,
            f"Every partner_id in {_table(dataset)} is a partner in raw.partners, "
            f"and no row of the {dataset.name} files was quarantined for naming "
            "an unknown partner.",
            "Add the partner to the partners file, or correct the code in the "
            f"{dataset.name} file named in the sample rows and put it back in "
            "the drop folder; if the partners file lost it, restore the "
            "partner there.",
            f"""
select
    input_row._file_name as file_name,
    -- Cast alike: a retyped lineage column is the columns check's to report.
    cast(input_row._row_number as integer) as row_number,
    input_row.partner_id,
    'loaded' as row_status
from {{batch}} as input_row
left join raw.partners as partner
    on partner.partner_id = input_row.partner_id
where
    input_row.partner_id is not null
    and partner.partner_id is null
union all
select
    quarantined.file_name,
    cast(quarantined.row_number as integer) as row_number,
    quarantined.value as partner_id,
    'quarantined' as row_status
from ops.quarantine as quarantined
where
    quarantined.dataset = {sql_text(dataset.name)}
    and quarantined.field = {sql_text(_UNKNOWN_PARTNER_FIELD)}
    and quarantined.reason like {sql_text(_UNKNOWN_PARTNER_REASON)}
order by file_name, row_number
""",
        )
    ]


def _files_reconcile(dataset: Dataset) -> Check:
    name = sql_text(dataset.name)
    return sql_check(
        f"{dataset.name}_files_reconcile",
        Batch(
            table="ops.load_files",
            label=dataset.name,
            condition=f"dataset = {name}",
            key_columns=("source", "file_name"),
        ),
        Severity.BLOCK,
        f"Each {dataset.name} file's latest load accounts for every row read "
        "(rows_read = rows_loaded + rows_quarantined), and those counts match "
        f"the rows in {_table(dataset)} and ops.quarantine.",
        "Rows were lost or doubled between the file and the warehouse: rerun "
        "the run so the pull reloads the file; if it persists, report it with "
        "the sample row.",
        f"""
select
    load_file.source,
    load_file.file_name,
    load_file.rows_read,
    load_file.rows_loaded,
    load_file.rows_quarantined,
    coalesce(loaded.row_count, 0) as rows_in_raw,
    coalesce(quarantined.row_count, 0) as rows_in_quarantine
from {{batch}} as load_file
inner join (
    select
        source,
        file_name,
        max(loaded_at) as loaded_at
    from ops.load_files
    where dataset = {name}
    group by source, file_name
) as latest_load
    on
        latest_load.source = load_file.source
        and latest_load.file_name = load_file.file_name
        and latest_load.loaded_at = load_file.loaded_at
left join (
    select
        _source,
        _file_name,
        count(*) as row_count
    from {_table(dataset)}
    group by _source, _file_name
) as loaded
    on
        loaded._source = load_file.source
        and loaded._file_name = load_file.file_name
left join (
    select
        source,
        file_name,
        count(distinct row_number) as row_count
    from ops.quarantine
    where dataset = {name}
    group by source, file_name
) as quarantined
    on
        quarantined.source = load_file.source
        and quarantined.file_name = load_file.file_name
where
    load_file.rows_read
        <> load_file.rows_loaded + load_file.rows_quarantined
    or load_file.rows_loaded <> coalesce(loaded.row_count, 0)
    or load_file.rows_quarantined <> coalesce(quarantined.row_count, 0)
order by load_file.source, load_file.file_name
""",
    )


def _nothing_quarantined(dataset: Dataset, role: _Role) -> Check:
    return sql_check(
        f"{dataset.name}_nothing_quarantined",
        Batch(
            table="ops.quarantine",
            label=dataset.name,
            condition=f"dataset = {sql_text(dataset.name)}",
            key_columns=("file_name", "row_number"),
        ),
        _money_severity(role),
        f"No row of the {dataset.name} files is in quarantine (unparseable "
        "amounts or dates, unknown partners, duplicate keys).",
        "Each sample row names the file, row, field and reason: correct that "
        "cell (or add the missing partner) and put the file back in the drop "
        "folder; the next run reloads it and clears its quarantine.",
        """
select
    quarantined.file_name,
    quarantined.row_number,
    quarantined.field,
    quarantined.value,
    quarantined.reason
from {batch} as quarantined
cross join (select 1 as one) as gate_parameter
order by
    quarantined.file_name,
    quarantined.row_number,
    quarantined.field
""",
    )


def _presence_severity(dataset: Dataset, role: _Role, scope: Scope) -> Severity | None:
    # Required inputs block (order lines per period, in _period_checks); the
    # others fail as gate.yml's empty_inputs says, or are not checked.
    if role.required:
        return None if role.period_date is not None else Severity.BLOCK
    setting = scope.config.empty_inputs.for_input(dataset.name)
    return None if setting == "ignore" else Severity(setting)


def _present(dataset: Dataset, severity: Severity) -> Check:
    remedy = (
        f"Put the {dataset.name} export in the drop folder and check the "
        "file patterns of its source mapping"
    )
    if severity is Severity.WARN:
        remedy += (
            f"; if you do not supply {dataset.name}, set it to ignore under "
            "empty_inputs in gate.yml"
        )
    return Check(
        name=f"{dataset.name}_present",
        batch=_whole(dataset),
        severity=severity,
        description=f"{_table(dataset)} has at least one row.",
        remedy=f"{remedy}.",
        expectation=ExpectTableRowCountToBeBetween,
        arguments={"min_value": 1},
    )


def _period_checks(dataset: Dataset, role: _Role, scope: Scope) -> list[Check]:
    column = role.period_date
    assert column is not None
    in_window = Batch(
        table=_table(dataset),
        label="period",
        condition=scope.window.condition(column),
        key_columns=(*_ROW_COLUMNS, *dataset.key),
    )
    checks = []
    if role.required:
        checks.append(
            Check(
                name=f"{dataset.name}_present_in_period",
                batch=in_window,
                severity=Severity.BLOCK,
                description=(
                    f"{_table(dataset)} has rows dated in {scope.label} "
                    f"({scope.window})."
                ),
                remedy=(
                    f"Put the {scope.label} {dataset.name} export in the drop "
                    "folder; a file with only a header loads nothing."
                ),
                expectation=ExpectTableRowCountToBeBetween,
                arguments={"min_value": 1},
            )
        )
    checks.append(_not_collapsed(dataset, role, scope, in_window, column))
    return checks


def _not_collapsed(
    dataset: Dataset, role: _Role, scope: Scope, in_window: Batch, column: str
) -> Check:
    ratio = scope.config.collapse_ratio
    return sql_check(
        f"{dataset.name}_not_collapsed",
        in_window,
        _money_severity(role),
        f"{_table(dataset)} has at least {ratio:%} as many rows dated in "
        f"{scope.label} ({scope.window}) as in the same days of the previous "
        f"quarter ({scope.previous_window}).",
        f"Part of the {scope.label} data is missing: check that every "
        f"{dataset.name} export of the period is in the drop folder and "
        "complete; if the drop is real, lower collapse_ratio in gate.yml.",
        f"""
select
    current_window.row_count as period_rows,
    previous_window.row_count as previous_period_rows
from (
    select count(*) as row_count
    from {{batch}} as input_row
) as current_window
cross join (
    select count(*) as row_count
    from {_table(dataset)}
    where {scope.previous_window.condition(column)}
) as previous_window
cross join (
    select {sql_decimal(ratio, 9, 6)} as collapse_ratio
) as gate_parameter
where
    previous_window.row_count > 0
    and current_window.row_count
        < previous_window.row_count * gate_parameter.collapse_ratio
""",
    )


def _no_duplicate_looking_orders(scope: Scope) -> Check:
    batch = Batch(
        table="raw.order_lines",
        label="period",
        condition=scope.window.condition("order_date"),
    )
    return sql_check(
        "order_lines_no_duplicate_looking_orders",
        batch,
        Severity.WARN,
        f"No partner has two different orders in {scope.label} on the same "
        "day with the same number of lines and the same amount.",
        "Check with the partner or the sales team whether the order was "
        "entered twice; if so, remove one from the export and reload, "
        "otherwise publish with the override and say so in the reason.",
        """
select
    first_order.partner_id,
    first_order.order_date,
    first_order.order_id,
    second_order.order_id as same_looking_order_id,
    first_order.line_count,
    first_order.amount
from (
    select
        order_line.partner_id,
        order_line.order_date,
        order_line.order_id,
        count(*) as line_count,
        sum(order_line.net_amount) as amount
    from {batch} as order_line
    cross join (select 1 as one) as gate_parameter
    group by order_line.partner_id, order_line.order_date, order_line.order_id
) as first_order
inner join (
    select
        partner_id,
        order_date,
        order_id,
        count(*) as line_count,
        sum(net_amount) as amount
    from raw.order_lines
    group by partner_id, order_date, order_id
) as second_order
    on
        second_order.partner_id = first_order.partner_id
        and second_order.order_date = first_order.order_date
        and second_order.line_count = first_order.line_count
        and second_order.amount = first_order.amount
        and second_order.order_id > first_order.order_id
order by first_order.partner_id, first_order.order_date, first_order.order_id
""",
    )

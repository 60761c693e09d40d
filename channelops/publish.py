"""Publish settlement statements: immutable, versioned, content-hashed.

For a period, each partner's statement is built from the marts as a
canonical JSON document. A document whose hash equals the latest published
version of that statement is left alone; a new or changed one becomes the
next version, written once to ``published/<period>/<partner>/v<N>.json``
(read-only) and recorded in the append-only ledger ``ops.statement_versions``.
Running the same period again with the same inputs publishes nothing.

What a statement amounts to is computed from the marts as the *settlement*
(every line at its current amount). Version 1 publishes it as it is. When
inputs, rules or code change the settlement of a period already published,
the next version publishes only the *deltas*: for each line, the current
amount minus everything earlier versions published for it, with the reason
(input files, rule files, program versions, code version that changed).
The movements are recorded line by line in the append-only
``ops.settlement_ledger``; each version's program versions, inputs hash (of
the data files and the program and adjustment files), code version and
reason in ``ops.settlement_versions``. So a statement's total is the sum of its lines
and equals the version's movement in the ledger.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from channelops import __version__
from channelops.errors import ChannelopsError
from channelops.periods import Quarter
from channelops.rules.scorecard import MetricName
from channelops.settings import Settings
from channelops.tier_records import record_tiers
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)

DOCUMENT_SCHEMA = "channelops.statement/2"
ROUNDING_RULE = (
    "Each line is rounded half away from zero to 0.01; the total is the sum "
    "of the rounded lines."
)
READ_ONLY = 0o444
ZERO = Decimal("0.00")

SETTLEMENT_VERSIONS_DDL = """
create table if not exists ops.settlement_versions (
    statement_key varchar not null,
    partner_id varchar not null,
    period varchar not null,
    version integer not null,
    settlement_hash varchar not null,
    program_versions varchar not null,
    inputs_hash varchar not null,
    code_version varchar not null,
    reason varchar not null,
    run_id varchar not null,
    recorded_at timestamp not null,
    data_hash varchar,
    rules_hash varchar
)
"""
# Ledgers created before the inputs hash was split into data and rules.
SETTLEMENT_VERSIONS_MIGRATIONS = (
    "alter table ops.settlement_versions add column if not exists data_hash varchar",
    "alter table ops.settlement_versions add column if not exists rules_hash varchar",
)
SETTLEMENT_LEDGER_DDL = """
create table if not exists ops.settlement_ledger (
    statement_key varchar not null,
    statement_line_key varchar not null,
    partner_id varchar not null,
    period varchar not null,
    version integer not null,
    program_id varchar not null,
    program_version integer not null,
    amount decimal(18,2) not null,
    run_id varchar not null,
    recorded_at timestamp not null
)
"""

LEDGER_DDL = """
create table if not exists ops.statement_versions (
    statement_key varchar not null,
    partner_id varchar not null,
    period varchar not null,
    version integer not null,
    content_hash varchar not null,
    currency varchar not null,
    total_amount decimal(18,2) not null,
    line_count integer not null,
    document_path varchar not null,
    inputs_hash varchar not null,
    code_version varchar not null,
    run_id varchar not null,
    published_at timestamp not null
)
"""


class PublishConflict(ChannelopsError):
    """A published file differs from what the ledger says was published."""


@dataclass(frozen=True)
class PublishedStatement:
    statement_key: str
    partner_id: str
    period: str
    version: int
    content_hash: str
    total_amount: Decimal
    currency: str
    document: dict[str, Any]
    is_new: bool


@dataclass(frozen=True)
class PublishReport:
    period: str
    statements: tuple[PublishedStatement, ...]

    @property
    def new_versions(self) -> tuple[PublishedStatement, ...]:
        return tuple(s for s in self.statements if s.is_new)

    @property
    def total_amount(self) -> Decimal:
        return sum((s.total_amount for s in self.statements), Decimal("0.00"))


def canonical_json(document: dict[str, Any]) -> bytes:
    """Stable bytes for a document: sorted keys, decimals as exact strings."""
    return json.dumps(
        document,
        ensure_ascii=False,
        sort_keys=True,
        indent=1,
        default=_exact,
    ).encode("utf-8")


def _exact(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a statement")


def content_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def build_statement_documents(
    warehouse: Warehouse, period: Quarter
) -> list[dict[str, Any]]:
    """One document per partner with sales in ``period``, from the marts only."""
    statements = warehouse.query_dicts(
        "select s.statement_key, s.partner_id, s.period, s.currency, "
        "s.order_line_count, s.net_sales, s.total_amount, s.line_count, "
        "s.carried_forward_amount, "
        "p.partner_name, p.parent_partner_id, p.region "
        "from marts.fct_rebate_statements as s "
        "join marts.dim_partners as p on p.partner_id = s.partner_id "
        "where s.period = ? order by s.partner_id",
        (period.label,),
    )
    lines_by_key: dict[str, list[dict[str, Any]]] = {}
    sources = _source_line_ids(warehouse, period)
    for line in warehouse.query_dicts(
        "select statement_key, " + ", ".join(LINE_COLUMNS) + " "
        "from marts.fct_rebate_statement_lines "
        "where period = ? order by statement_key, line_no",
        (period.label,),
    ):
        line["source_line_ids"] = sources.get(line["statement_line_key"], [])
        for name in OPTIONAL_LINE_COLUMNS:
            if line[name] is None:
                del line[name]
        lines_by_key.setdefault(line.pop("statement_key"), []).append(line)
    scorecards = _scorecards(warehouse, period)
    documents = []
    for statement in statements:
        lines = lines_by_key.get(statement["statement_key"], [])
        total = sum((line["amount"] for line in lines), Decimal("0.00"))
        if total != statement["total_amount"]:
            raise ChannelopsError(
                f"statement {statement['statement_key']}: total "
                f"{statement['total_amount']} differs from the sum of its lines "
                f"{total}; the marts are inconsistent, rerun dbt build"
            )
        documents.append(
            {
                "schema": DOCUMENT_SCHEMA,
                "statement_key": statement["statement_key"],
                "period": statement["period"],
                "partner": {
                    "partner_id": statement["partner_id"],
                    "partner_name": statement["partner_name"],
                    "parent_partner_id": statement["parent_partner_id"],
                    "region": statement["region"],
                },
                "currency": statement["currency"],
                "order_line_count": statement["order_line_count"],
                "net_sales": statement["net_sales"],
                "lines": lines,
                "total_amount": statement["total_amount"],
                "carried_forward_amount": statement["carried_forward_amount"],
                "rounding": ROUNDING_RULE,
                "scorecard": scorecards.get(statement["partner_id"]),
            }
        )
    return documents


# Columns only some kinds of line have (the target of a performance bonus,
# the component of a combined program and the cap its components share); a
# line leaves them out rather than carry nulls, so the documents of the
# other programs stay as they were.
OPTIONAL_LINE_COLUMNS = (
    "target_amount",
    "component_id",
    "component_name",
    "program_cap_amount",
)

# What a statement line says about itself: program and rule, basis, tier
# reached, rate, convention, what was entitled and carried, and the amount.
LINE_COLUMNS = (
    "statement_line_key",
    "line_no",
    "line_kind",
    "program_id",
    "program_name",
    "program_version",
    "calculation",
    "banding",
    "bounds",
    "basis",
    "accumulation",
    "rounding",
    "basis_amount",
    "basis_quantity",
    "measured_basis",
    "prior_year_volume",
    "tier_no",
    "tier_name",
    "rate",
    "fixed_amount",
    "is_eligible",
    "min_collection_ratio",
    "cumulative_invoiced",
    "cumulative_collected",
    "is_capped",
    "cap_amount",
    "minimum_payout",
    "entitlement_amount",
    "previously_entitled_amount",
    "carried_in_amount",
    "carried_out_amount",
    "amount",
    "reason",
    "source_line_count",
    *OPTIONAL_LINE_COLUMNS,
)


def _source_line_ids(warehouse: Warehouse, period: Quarter) -> dict[str, list[str]]:
    """The order line ids behind each program line of ``period``, sorted."""
    ids: dict[str, list[str]] = {}
    for key, order_line_id in warehouse.query(
        "select statement_line_key, order_line_id "
        "from marts.fct_rebate_line_sources where period = ? "
        "order by statement_line_key, order_line_id",
        (period.label,),
    ):
        ids.setdefault(key, []).append(order_line_id)
    return ids


# Every metric a scorecard rule may name is a column of the scorecard mart.
SCORECARD_METRICS = get_args(MetricName)


def _scorecards(warehouse: Warehouse, period: Quarter) -> dict[str, dict[str, Any]]:
    """Each partner's own scorecard for the period, with the rules applied."""
    rules = warehouse.query_dicts(
        "select metric, label_zh, label_en, weight from config.scorecard_metrics "
        "order by weight desc, metric"
    )
    rows = warehouse.query_dicts(
        "select partner_id, score, tier, tier_label_zh, tier_label_en, "
        "score_rank, scored_partner_count, "
        + ", ".join(SCORECARD_METRICS)
        + " from marts.fct_partner_scorecard where period = ?",
        (period.label,),
    )
    return {
        row["partner_id"]: {
            "score": row["score"],
            "tier": row["tier"],
            "tier_label_zh": row["tier_label_zh"],
            "tier_label_en": row["tier_label_en"],
            "rank": row["score_rank"],
            "scored_partner_count": row["scored_partner_count"],
            "metrics": [
                {
                    "metric": rule["metric"],
                    "label_zh": rule["label_zh"],
                    "label_en": rule["label_en"],
                    "weight": rule["weight"],
                    "value": row[rule["metric"]],
                }
                for rule in rules
            ],
        }
        for row in rows
    }


@dataclass(frozen=True)
class InputHashes:
    """What a settlement was computed from: data files, rule files, both."""

    data: str
    rules: str
    inputs: str


def input_hashes(warehouse: Warehouse) -> InputHashes:
    """Hashes of every input file's latest content and of the rule files.

    ``inputs`` covers both, the data files (ops.load_files) and the program
    and adjustment files the rules were loaded from (config.rule_files), so
    a rule change shows in the ledger's inputs hash.
    """
    data = warehouse.query(
        "select source, file_name, file_sha256 from ("
        "select source, file_name, file_sha256, row_number() over ("
        "partition by source, file_name order by loaded_at desc, batch_id desc"
        ") as recency from ops.load_files) as latest "
        "where recency = 1 order by source, file_name"
    )
    rules = [
        ("rules", file_name, file_sha256)
        for file_name, file_sha256 in _rule_files(warehouse)
    ]
    return InputHashes(_digest(data), _digest(rules), _digest([*data, *rules]))


def _rule_files(warehouse: Warehouse) -> list[tuple[str, str]]:
    """The rule files the loaded rules came from (none before they were kept)."""
    tables = warehouse.query(
        "select count(*) from information_schema.tables "
        "where table_schema = 'config' and table_name = 'rule_files'"
    )
    if tables[0][0] == 0:
        return []
    return [
        (file_name, file_sha256)
        for file_name, file_sha256 in warehouse.query(
            "select file_name, file_sha256 from config.rule_files order by file_name"
        )
    ]


def _digest(rows: list[tuple[str, str, str]]) -> str:
    digest = hashlib.sha256()
    for source, file_name, file_sha256 in rows:
        digest.update(f"{source}\t{file_name}\t{file_sha256}\n".encode())
    return digest.hexdigest()


def publish_statements(
    settings: Settings,
    warehouse: Warehouse,
    period: Quarter,
    *,
    run_id: str,
    dry_run: bool = False,
    partners: frozenset[str] | None = None,
) -> PublishReport:
    """Publish every changed statement of ``period`` as its next version.

    With ``partners`` only those partners' statements are built into the
    report and published; every other partner's statements stay as they are.
    """
    for ddl in (
        LEDGER_DDL,
        SETTLEMENT_VERSIONS_DDL,
        *SETTLEMENT_VERSIONS_MIGRATIONS,
        SETTLEMENT_LEDGER_DDL,
    ):
        warehouse.execute(ddl)
    history = _settlement_history(warehouse, period)
    hashes = input_hashes(warehouse)
    inputs = hashes.inputs
    published: list[PublishedStatement] = []
    records: list[SettlementRecord] = []
    settlements = build_statement_documents(warehouse, period)
    if partners is not None:
        settlements = _only_partners(settlements, partners, period)
    for settlement in settlements:
        key = settlement["statement_key"]
        digest = settlement_hash(settlement)
        earlier = history.get(key)
        if earlier is not None and earlier.settlement_hash == digest:
            published.append(_unchanged(earlier))
            continue
        record = SettlementRecord(
            version=1 if earlier is None else earlier.version + 1,
            settlement_hash=digest,
            program_versions=_program_versions(settlement),
            inputs_hash=inputs,
            code_version=__version__,
            data_hash=hashes.data,
            rules_hash=hashes.rules,
        )
        document = settlement
        if earlier is not None:
            record = record.with_reason(earlier)
            document = _delta_document(settlement, earlier, record)
        statement = _statement(document, record, is_new=True)
        published.append(statement)
        records.append(record)
    new = [s for s in published if s.is_new]
    if not dry_run and new:
        _write_versions(settings, warehouse, new, records, inputs=inputs, run_id=run_id)
        # The quarterly tier each new statement shows is kept as told.
        with warehouse.transaction():
            record_tiers(
                warehouse,
                period.label,
                (s.partner_id for s in new),
                recorded_for="statement",
            )
    report = PublishReport(period.label, tuple(published))
    logger.info(
        "%s statements for %s: %d in all, %d new version(s) (%d correcting "
        "an earlier one), %d unchanged; total rebate %s %s",
        "Would publish" if dry_run else "Published",
        period.label,
        len(published),
        len(new),
        sum(s.version > 1 for s in new),
        len(published) - len(new),
        report.total_amount,
        settings.currency,
    )
    return report


# Why a new settlement version was made, as the ledger records it.
INPUTS_CHANGED = "input files changed"
RULES_CHANGED = "rule files changed (programs or adjustments)"
STATEMENT_CHANGED = "the computed statement changed"


@dataclass(frozen=True)
class SettlementRecord:
    """What a version was computed from, and why it exists."""

    version: int
    settlement_hash: str
    program_versions: str
    inputs_hash: str
    code_version: str
    reason: str = "first settlement of the period"
    document: dict[str, Any] | None = None
    # (statement line key, program id, amount published so far) per line.
    settled_lines: tuple[tuple[str, str, Decimal], ...] = ()
    content_hash: str = ""
    total_amount: Decimal = ZERO
    # The inputs hash's two halves; None for versions recorded before them.
    data_hash: str | None = None
    rules_hash: str | None = None

    def with_reason(self, earlier: SettlementRecord) -> SettlementRecord:
        changes = []
        known = None not in (earlier.data_hash, self.data_hash)
        if (
            earlier.data_hash != self.data_hash
            if known
            else earlier.inputs_hash != self.inputs_hash
        ):
            changes.append(INPUTS_CHANGED)
        if earlier.program_versions != self.program_versions:
            changes.append(
                f"programs changed from {earlier.program_versions} to "
                f"{self.program_versions}"
            )
        elif known and earlier.rules_hash != self.rules_hash:
            changes.append(RULES_CHANGED)
        if earlier.code_version != self.code_version:
            changes.append(
                f"channelops changed from {earlier.code_version} to {self.code_version}"
            )
        reason = "; ".join(changes) or STATEMENT_CHANGED
        return replace(
            self,
            reason=f"corrects v{earlier.version}: {reason}",
            document=None,
            settled_lines=(),
            content_hash="",
            total_amount=ZERO,
        )


# A version's reason is recorded in English (for audit); partners read it
# in their own language. Each phrase with_reason writes has its Chinese here;
# unknown wording (an operator's own) is shown as it is.
_REASON_ZH = (
    (re.compile(r"^corrects v(\d+): "), r"更正第 \1 版："),
    (re.compile(re.escape(INPUTS_CHANGED)), "输入数据有变化"),
    (re.compile(re.escape(RULES_CHANGED)), "规则文件有变化（返利政策或调整）"),
    (
        re.compile(r"programs changed from (.+?) to (.+?)(?=;|$)"),
        r"返利政策由 \1 改为 \2",
    ),
    (
        re.compile(r"channelops changed from (.+?) to (.+?)(?=;|$)"),
        r"系统版本由 \1 更新为 \2",
    ),
    (re.compile(re.escape(STATEMENT_CHANGED)), "计算结果有变化"),
    (re.compile(r"; "), "；"),
)


def change_reason(reason: str | None, language: str) -> str | None:
    """A version's recorded reason in the partner's language (zh-CN or en)."""
    if reason is None or language != "zh-CN":
        return reason
    for pattern, replacement in _REASON_ZH:
        reason = pattern.sub(replacement, reason)
    return reason


def settlement_hash(document: dict[str, Any]) -> str:
    """The hash of what a statement settles: everything but the scorecard.

    A scorecard ranks a partner among the others, so one partner's corrected
    sales move everyone's rank; that alone is not a new settlement.
    """
    return content_hash({k: v for k, v in document.items() if k != "scorecard"})


def _program_versions(document: dict[str, Any]) -> str:
    """'program v<N>' for each program line, sorted: what the rules were."""
    versions = sorted(
        {
            f"{line['program_id']} v{line['program_version']}"
            for line in document["lines"]
            if line["line_kind"] == "program"
        }
    )
    return ", ".join(versions) or "-"


def _settlement_history(
    warehouse: Warehouse, period: Quarter
) -> dict[str, SettlementRecord]:
    """Per statement of ``period``: its latest version and all it settled."""
    latest: dict[str, SettlementRecord] = {}
    for row in warehouse.query_dicts(
        "select statement_key, version, settlement_hash, program_versions, "
        "inputs_hash, code_version, reason, data_hash, rules_hash "
        "from ops.settlement_versions "
        "where period = ? order by statement_key, version",
        (period.label,),
    ):
        latest[row["statement_key"]] = SettlementRecord(
            row["version"],
            row["settlement_hash"],
            row["program_versions"],
            row["inputs_hash"],
            row["code_version"],
            row["reason"],
            data_hash=row["data_hash"],
            rules_hash=row["rules_hash"],
        )
    settled: dict[str, list[tuple[str, str, Decimal]]] = {}
    for key, line_key, program_id, amount in warehouse.query(
        "select statement_key, statement_line_key, max(program_id), sum(amount) "
        "from ops.settlement_ledger where period = ? "
        "group by statement_key, statement_line_key "
        "order by statement_key, statement_line_key",
        (period.label,),
    ):
        settled.setdefault(key, []).append((line_key, program_id, amount))
    files = {
        key: (version, path, digest, total)
        for key, version, path, digest, total in warehouse.query(
            "select statement_key, version, document_path, content_hash, "
            "total_amount from ("
            "select statement_key, version, document_path, content_hash, "
            "total_amount, row_number() over ("
            "partition by statement_key order by version desc) as recency "
            "from ops.statement_versions where period = ?) as v "
            "where recency = 1",
            (period.label,),
        )
    }
    history = {}
    for key, (version, _, _, _) in files.items():
        if key not in latest:
            # Published before the settlement ledger existed: carry on from
            # its last version; its lines were never recorded line by line.
            latest[key] = SettlementRecord(version, "", "-", "", "", "")
    for key, record in latest.items():
        _, path, digest, total = files.get(key, (0, None, "", ZERO))
        document = _read_document(Path(path)) if path is not None else None
        history[key] = replace(
            record,
            document=document,
            settled_lines=tuple(settled.get(key, [])),
            content_hash=digest,
            total_amount=total,
        )
    return history


def _read_document(path: Path) -> dict[str, Any]:
    published = json.loads(path.read_text(encoding="utf-8"))
    return dict(published["document"])


def _delta_document(
    settlement: dict[str, Any], earlier: SettlementRecord, record: SettlementRecord
) -> dict[str, Any]:
    """The settlement as deltas against everything published before it."""
    settled = {key: amount for key, _, amount in earlier.settled_lines}
    current = {line["statement_line_key"]: line for line in settlement["lines"]}
    lines = []
    for line in settlement["lines"]:
        before = settled.get(line["statement_line_key"], ZERO)
        if line["amount"] != before:
            lines.append(_delta_line(line, before))
    for line_key, program_id, before in earlier.settled_lines:
        if line_key not in current and before != 0:
            lines.append(_withdrawn_line(line_key, program_id, before))
    for line_no, line in enumerate(lines, start=1):
        line["line_no"] = line_no
    return {
        **settlement,
        "lines": lines,
        "total_amount": sum((line["amount"] for line in lines), ZERO),
        "settlement_total_amount": settlement["total_amount"],
        "supersedes_version": earlier.version,
        "reason": record.reason,
    }


def _delta_line(line: dict[str, Any], before: Decimal) -> dict[str, Any]:
    return {
        **line,
        "line_kind": f"{line['line_kind']}_correction",
        "settled_amount": line["amount"],
        "previously_published_amount": before,
        "amount": line["amount"] - before,
    }


def _withdrawn_line(line_key: str, program_id: str, before: Decimal) -> dict[str, Any]:
    """A line published before that the settlement no longer has."""
    return {
        "statement_line_key": line_key,
        "line_kind": "withdrawn",
        "program_id": program_id,
        "program_name": program_id,
        "program_version": 0,
        "calculation": "withdrawn",
        "basis_amount": ZERO,
        "tier_no": None,
        "tier_name": "-",
        "rate": Decimal("0"),
        "source_line_count": 0,
        "source_line_ids": [],
        "settled_amount": ZERO,
        "previously_published_amount": before,
        "amount": -before,
    }


def _unchanged(record: SettlementRecord) -> PublishedStatement:
    """The latest published version, as the ledger and its file say."""
    document = record.document
    if document is None:
        raise ChannelopsError(
            f"settlement v{record.version} is in ops.settlement_versions but its "
            "published file is not in ops.statement_versions; restore the ledger "
            "backup that matches the published folder"
        )
    return PublishedStatement(
        document["statement_key"],
        document["partner"]["partner_id"],
        document["period"],
        record.version,
        record.content_hash,
        record.total_amount,
        document["currency"],
        document,
        False,
    )


def _statement(
    document: dict[str, Any], record: SettlementRecord, *, is_new: bool
) -> PublishedStatement:
    return PublishedStatement(
        document["statement_key"],
        document["partner"]["partner_id"],
        document["period"],
        record.version,
        content_hash(document),
        document["total_amount"],
        document["currency"],
        document,
        is_new,
    )


def _only_partners(
    documents: list[dict[str, Any]], partners: frozenset[str], period: Quarter
) -> list[dict[str, Any]]:
    """The requested partners' documents; an id without one stops the run."""
    chosen = [d for d in documents if d["partner"]["partner_id"] in partners]
    missing = partners - {d["partner"]["partner_id"] for d in chosen}
    if missing:
        raise ChannelopsError(
            f"no {period.label} statement for partner(s) {sorted(missing)!r}; "
            "expected ids of partners with sales in that quarter. Nothing was "
            "published: correct the ids and run again"
        )
    return chosen


def statement_path(settings: Settings, statement: PublishedStatement) -> Path:
    return (
        settings.published_dir
        / statement.period
        / statement.partner_id
        / f"v{statement.version}.json"
    )


def _write_versions(
    settings: Settings,
    warehouse: Warehouse,
    statements: list[PublishedStatement],
    records: list[SettlementRecord],
    *,
    inputs: str,
    run_id: str,
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    for statement in statements:
        _write_once(statement_path(settings, statement), _file_bytes(statement))
    with warehouse.transaction():
        for statement, record in zip(statements, records, strict=True):
            warehouse.execute(
                "insert into ops.statement_versions values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    statement.statement_key,
                    statement.partner_id,
                    statement.period,
                    statement.version,
                    statement.content_hash,
                    statement.currency,
                    statement.total_amount,
                    len(statement.document["lines"]),
                    str(statement_path(settings, statement)),
                    inputs,
                    __version__,
                    run_id,
                    now,
                ),
            )
            warehouse.execute(
                "insert into ops.settlement_versions values "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    statement.statement_key,
                    statement.partner_id,
                    statement.period,
                    statement.version,
                    record.settlement_hash,
                    record.program_versions,
                    record.inputs_hash,
                    record.code_version,
                    record.reason,
                    run_id,
                    now,
                    record.data_hash,
                    record.rules_hash,
                ),
            )
            for line in statement.document["lines"]:
                warehouse.execute(
                    "insert into ops.settlement_ledger values "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        statement.statement_key,
                        line["statement_line_key"],
                        statement.partner_id,
                        statement.period,
                        statement.version,
                        line["program_id"],
                        line["program_version"],
                        line["amount"],
                        run_id,
                        now,
                    ),
                )


def _file_bytes(statement: PublishedStatement) -> bytes:
    return canonical_json(
        {
            "version": statement.version,
            "content_hash": statement.content_hash,
            "document": statement.document,
        }
    )


def _write_once(path: Path, data: bytes) -> None:
    """Write an immutable file; the same bytes again is a no-op."""
    if path.exists():
        if path.read_bytes() == data:
            return
        raise PublishConflict(
            f"{path} is already published with different content; published "
            "statements are never overwritten. If the ledger was reset, restore "
            "it or move the published folder aside"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    # A crash can leave a read-only temporary file behind.
    temporary.unlink(missing_ok=True)
    temporary.write_bytes(data)
    os.chmod(temporary, READ_ONLY)
    temporary.replace(path)

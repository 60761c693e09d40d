"""Publish settlement statements: immutable, versioned, content-hashed.

For a period, each partner's statement is built from the marts as a
canonical JSON document. A document whose hash equals the latest published
version of that statement is left alone; a new or changed one becomes the
next version, written once to ``published/<period>/<partner>/v<N>.json``
(read-only) and recorded in the append-only ledger ``ops.statement_versions``.
Running the same period again with the same inputs publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args

from channelops import __version__
from channelops.errors import ChannelopsError
from channelops.periods import Quarter
from channelops.rules.scorecard import MetricName
from channelops.settings import Settings
from channelops.warehouse import Warehouse

logger = logging.getLogger(__name__)

DOCUMENT_SCHEMA = "channelops.statement/1"
ROUNDING_RULE = (
    "Each line is rounded half away from zero to 0.01; the total is the sum "
    "of the rounded lines."
)
READ_ONLY = 0o444

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
        "p.partner_name, p.parent_partner_id, p.region "
        "from marts.fct_rebate_statements as s "
        "join marts.dim_partners as p on p.partner_id = s.partner_id "
        "where s.period = ? order by s.partner_id",
        (period.label,),
    )
    lines_by_key: dict[str, list[dict[str, Any]]] = {}
    for line in warehouse.query_dicts(
        "select statement_key, line_no, program_id, program_name, "
        "program_version, calculation, basis_amount, tier_no, tier_name, rate, "
        "amount, source_line_count from marts.fct_rebate_statement_lines "
        "where period = ? order by statement_key, line_no",
        (period.label,),
    ):
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
                "rounding": ROUNDING_RULE,
                "scorecard": scorecards.get(statement["partner_id"]),
            }
        )
    return documents


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


def inputs_hash(warehouse: Warehouse) -> str:
    """A hash of every input file's latest content, for the ledger."""
    rows = warehouse.query(
        "select source, file_name, file_sha256 from ("
        "select source, file_name, file_sha256, row_number() over ("
        "partition by source, file_name order by loaded_at desc, batch_id desc"
        ") as recency from ops.load_files) as latest "
        "where recency = 1 order by source, file_name"
    )
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
    warehouse.execute(LEDGER_DDL)
    latest = {
        key: (version, digest)
        for key, version, digest in warehouse.query(
            "select statement_key, max(version), "
            "max(case when recency = 1 then content_hash end) from ("
            "select statement_key, version, content_hash, row_number() over ("
            "partition by statement_key order by version desc) as recency "
            "from ops.statement_versions where period = ?) as v "
            "group by statement_key",
            (period.label,),
        )
    }
    inputs = inputs_hash(warehouse)
    published: list[PublishedStatement] = []
    documents = build_statement_documents(warehouse, period)
    if partners is not None:
        documents = _only_partners(documents, partners, period)
    for document in documents:
        key = document["statement_key"]
        digest = content_hash(document)
        last_version, last_digest = latest.get(key, (0, None))
        is_new = digest != last_digest
        version = last_version + 1 if is_new else last_version
        published.append(
            PublishedStatement(
                key,
                document["partner"]["partner_id"],
                period.label,
                version,
                digest,
                document["total_amount"],
                document["currency"],
                document,
                is_new,
            )
        )
    new = [s for s in published if s.is_new]
    if not dry_run and new:
        _write_versions(settings, warehouse, new, inputs=inputs, run_id=run_id)
    report = PublishReport(period.label, tuple(published))
    logger.info(
        "%s statements for %s: %d in all, %d new version(s), %d unchanged; "
        "total rebate %s %s",
        "Would publish" if dry_run else "Published",
        period.label,
        len(published),
        len(new),
        len(published) - len(new),
        report.total_amount,
        settings.currency,
    )
    return report


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
    *,
    inputs: str,
    run_id: str,
) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    for statement in statements:
        _write_once(statement_path(settings, statement), _file_bytes(statement))
    with warehouse.transaction():
        for statement in statements:
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

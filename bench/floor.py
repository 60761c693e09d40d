"""The floor: the same SQL run bare in DuckDB, with no channelops around it.

``python -m bench.floor <drop dir> <channelops warehouse> <manifest> <out dir>``
bulk-loads the CSV exports with DuckDB's own reader (the GB18030 sales files
transcoded first, since DuckDB reads only UTF-8/16 and Latin-1), copies the
small XLSX-sourced tables and the rule tables from the channelops warehouse,
then runs every dbt model's compiled SQL in dependency order. No per-row
checks, no quarantine, no dbt tests: the least any implementation must do.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

from bench.generate import TRANSCODE_CHUNK

COPIED_TABLES = ("raw.partners", "raw.activities", "ops.load_files")
LOADS = {
    "order_lines": """
        insert into raw.order_lines
        select
            单号 || '-' || 行号, 单号, 经销商编码,
            strptime(单据日期, '%Y/%m/%d')::date,
            产品编码, 产品类别, nullif(客户编码, ''),
            cast(数量 as decimal(18, 3)), cast(单价 as decimal(18, 4)),
            cast(折后金额 as decimal(18, 2)), 'CNY',
            case 单据类型 when '销售' then 'sale' when '退货' then 'return' end,
            'demo', filename, 1 + row_number() over (partition by filename),
            'floor'
        from read_csv({files}, all_varchar = true, filename = true)
    """,
    "payments": """
        insert into raw.payments
        select
            回款单号, 经销商编码, cast(到账日期 as date),
            cast(replace(回款金额, ',', '') as decimal(18, 2)), 币种,
            'demo', filename, 1 + row_number() over (), 'floor'
        from read_csv({files}, all_varchar = true, filename = true)
    """,
    "feedback": """
        insert into raw.feedback
        select
            工单编号, 经销商编码,
            case 类型 when '投诉' then 'complaint' when '工单' then 'ticket'
                when '咨询' then 'inquiry' else 'satisfaction_survey' end,
            cast(创建时间 as timestamp) - interval 8 hour,
            cast(nullif(首次响应时间, '') as timestamp) - interval 8 hour,
            cast(nullif(解决时间, '') as timestamp) - interval 8 hour,
            cast(nullif(满意度, '') as decimal(4, 1)), 主题,
            'demo', filename, 1 + row_number() over (), 'floor'
        from read_csv({files}, all_varchar = true, filename = true)
    """,
    "partner_contacts": """
        insert into raw.partner_contacts
        select
            经销商编码, 邮箱, 联系人,
            case 语言 when '英文' then 'en' else 'zh-CN' end,
            'demo', filename, 1 + row_number() over (), 'floor'
        from read_csv({files}, all_varchar = true, filename = true)
    """,
    "targets": """
        insert into raw.targets
        select
            经销商编码, 考核期间, cast(目标金额 as decimal(18, 2)), 币种,
            'demo', filename, 1 + row_number() over (), 'floor'
        from read_csv({files}, all_varchar = true, filename = true)
    """,
}
FILES = {
    "order_lines": "销售明细_*.csv",
    "payments": "回款记录.csv",
    "feedback": "客户反馈.csv",
    "partner_contacts": "经销商联系人.csv",
    "targets": "销售目标.csv",
}


def _utf8_copies(drop_dir: Path, work: Path) -> list[Path]:
    copies = []
    for path in sorted(drop_dir.glob(FILES["order_lines"])):
        copy = work / path.name
        with (
            path.open(encoding="gb18030", newline="") as source,
            copy.open("w", encoding="utf-8", newline="") as target,
        ):
            for chunk in iter(lambda: source.read(TRANSCODE_CHUNK), ""):
                target.write(chunk)
        copies.append(copy)
    return copies


def _models_in_order(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    models = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    done: list[str] = []

    def visit(uid: str) -> None:
        if uid in done or uid not in models:
            return
        for parent in models[uid]["depends_on"]["nodes"]:
            visit(parent)
        done.append(uid)

    for uid in sorted(models):
        visit(uid)
    return [models[uid] for uid in done]


def run_floor(
    drop_dir: Path, warehouse: Path, manifest_path: Path, work: Path
) -> dict[str, Any]:
    work.mkdir(parents=True, exist_ok=True)
    database = work / "warehouse.duckdb"
    database.unlink(missing_ok=True)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    sales_files = _utf8_copies(drop_dir, work)
    timings["transcode_seconds"] = time.perf_counter() - started
    with duckdb.connect(str(database)) as db:
        db.execute(f"attach '{warehouse}' as channelops (read_only)")
        for schema in ("raw", "config", "ops"):
            db.execute(f"create schema {schema}")
        for (table,) in db.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_catalog = 'channelops' "
            "and table_schema in ('raw', 'config', 'ops')"
        ).fetchall():
            source = f"channelops.{table}"
            if table in COPIED_TABLES or table.startswith("config."):
                db.execute(f"create table {table} as select * from {source}")
            else:
                db.execute(f"create table {table} as select * from {source} limit 0")
        db.execute("detach channelops")
        mark = time.perf_counter()
        for dataset, sql in LOADS.items():
            paths = (
                sales_files
                if dataset == "order_lines"
                else sorted(drop_dir.glob(FILES[dataset]))
            )
            listing = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
            db.execute(sql.format(files=listing))
        timings["load_seconds"] = time.perf_counter() - mark
        mark = time.perf_counter()
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        models = _models_in_order(manifest)
        for node in models:
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            relation = f'"{node["schema"]}"."{node["alias"]}"'
            db.execute(f'create schema if not exists "{node["schema"]}"')
            db.execute(
                f"create or replace {kind} {relation} as {node['compiled_code']}"
            )
        timings["model_seconds"] = time.perf_counter() - mark
        lines = db.execute("select count(*) from raw.order_lines").fetchone()
    for copy in sales_files:
        copy.unlink()
    return {"rows": int(lines[0]) if lines else 0, "models": len(models), **timings}


def main(arguments: list[str]) -> None:
    drop_dir, warehouse, manifest, work = (Path(a) for a in arguments)
    result = run_floor(drop_dir, warehouse, manifest, work)
    print("BENCH-RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

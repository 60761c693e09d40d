"""Write a channel network of any size as the export files a customer drops.

The files follow the demo source mapping (``config/sources/demo.yml``):
partner master and activities as XLSX, order lines as one GB18030 CSV per
quarter, payments with thousands separators, feedback and targets as CSV.
Every value is a function of its row number and a salt through DuckDB's
``hash``, so the same scale gives byte-identical files on every run and
100 million lines take minutes, not hours. The shape is simpler than the
demo's (four lines per order, 3 % returns, partners' volumes skewed by a
square law) because only volume matters here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import xlsxwriter

logger = logging.getLogger(__name__)

FIRST_DAY = date(2024, 10, 1)
WINDOW_DAYS = 730
QUARTERS = (
    ("2024Q4", date(2024, 10, 1), date(2025, 1, 1)),
    ("2025Q1", date(2025, 1, 1), date(2025, 4, 1)),
    ("2025Q2", date(2025, 4, 1), date(2025, 7, 1)),
    ("2025Q3", date(2025, 7, 1), date(2025, 10, 1)),
    ("2025Q4", date(2025, 10, 1), date(2026, 1, 1)),
    ("2026Q1", date(2026, 1, 1), date(2026, 4, 1)),
    ("2026Q2", date(2026, 4, 1), date(2026, 7, 1)),
    ("2026Q3", date(2026, 7, 1), date(2026, 10, 1)),
)
LAST_QUARTER = QUARTERS[-1][0]
LINES_PER_ORDER = 4
# Lines per feedback ticket; every partner has at least a few tickets.
LINES_PER_TICKET = 200
TICKETS_PER_PARTNER = 4
ACTIVITY_ROWS_PER_PARTNER = 2
PARTICIPANTS_PER_ACTIVITY = 10
MIN_PARTNERS, MAX_PARTNERS = 100, 100_000
MIN_LINES, MAX_LINES = 10_000, 100_000_000
# A nightly drop is this share of the lines, a tenth of it dated in the
# previous quarter (late-arriving), the rest in the window's last week.
NIGHTLY_SHARE = 0.001
LATE_SHARE_PERCENT = 10
WORKBOOK_CREATED = datetime(2026, 1, 1)
TRANSCODE_CHUNK = 1 << 22

SALES_FILE = "销售明细_{quarter}.csv"
NIGHTLY_FILE = "销售明细_{quarter}_night{night}.csv"

SIZES = {"k": 1_000, "m": 1_000_000}
# Partners that go with a number of lines when the scale names none.
DEFAULT_PARTNERS = (
    (100_000, 100),
    (1_000_000, 2_000),
    (10_000_000, 10_000),
    (MAX_LINES, 100_000),
)


@dataclass(frozen=True)
class Scale:
    lines: int
    partners: int

    @property
    def orders(self) -> int:
        return self.lines // LINES_PER_ORDER

    @property
    def label(self) -> str:
        return f"{_short(self.lines)} lines, {self.partners} partners"


def _short(number: int) -> str:
    for suffix, size in (("m", 1_000_000), ("k", 1_000)):
        if number % size == 0:
            return f"{number // size}{suffix}"
    return str(number)


def parse_count(text: str) -> int:
    """'1m' -> 1000000, '250k' -> 250000, '12345' -> 12345."""
    match = re.fullmatch(r"(\d+)([kKmM]?)", text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a count like 10k, 1m or 250000")
    return int(match.group(1)) * SIZES.get(match.group(2).lower(), 1)


def scale_of(lines: str, partners: int | None = None) -> Scale:
    """A checked scale; partners default by the number of lines."""
    count = parse_count(lines)
    if partners is None:
        partners = next(p for limit, p in DEFAULT_PARTNERS if count <= limit)
    if not MIN_LINES <= count <= MAX_LINES:
        raise ValueError(f"lines {count} outside {MIN_LINES}..{MAX_LINES}")
    if not MIN_PARTNERS <= partners <= MAX_PARTNERS:
        raise ValueError(f"partners {partners} outside {MIN_PARTNERS}..{MAX_PARTNERS}")
    return Scale(count, partners)


def generate(drop_dir: Path, scale: Scale) -> list[Path]:
    """Write every export file of the network into ``drop_dir``."""
    drop_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as db:
        files = [
            _write_partners(db, drop_dir, scale),
            _write_contacts(db, drop_dir, scale),
            *_write_sales(db, drop_dir, scale),
            _write_payments(db, drop_dir, scale),
            _write_feedback(db, drop_dir, scale),
            _write_activities(db, drop_dir, scale),
            _write_targets(db, drop_dir, scale),
        ]
    logger.info("Generated %s: %d files in %s", scale.label, len(files), drop_dir)
    return files


def write_nightly(drop_dir: Path, scale: Scale, night: int = 1) -> tuple[Path, int]:
    """One night's drop of new order lines: 0.1 % of the lines, some late."""
    count = max(LINES_PER_ORDER, int(scale.lines * NIGHTLY_SHARE))
    first = scale.lines + (night - 1) * count
    last_week = WINDOW_DAYS - 7
    previous_quarter_start = (QUARTERS[-2][1] - FIRST_DAY).days
    days = (
        f"case when hash(o, 'late') % 100 < {LATE_SHARE_PERCENT} "
        f"then {previous_quarter_start} + cast(hash(o, 'day') % 90 as integer) "
        f"else {last_week} + cast(hash(o, 'day') % 7 as integer) end"
    )
    path = drop_dir / NIGHTLY_FILE.format(quarter=LAST_QUARTER, night=night)
    with duckdb.connect() as db:
        _copy_gb18030(db, _sales_select(scale, first, first + count, days), path)
    return path, count


def _sales_select(scale: Scale, first: int, last: int, day_sql: str) -> str:
    """Order lines ``first`` to ``last - 1`` in the ERP's export columns."""
    return f"""
        with numbered as (
            select i, i // {LINES_PER_ORDER} as o, i % {LINES_PER_ORDER} + 1 as line_no
            from range({first}, {last}) as t(i)
        ),
        drawn as (
            select
                o,
                line_no,
                cast(floor({scale.partners} * pow(
                    (hash(o, 'partner') % 1000003) / 1000003.0, 2)) as bigint)
                    as partner_no,
                date '{FIRST_DAY}' + cast({day_sql} as integer) as order_date,
                hash(o, 'kind') % 100 < 3 as is_return,
                cast(hash(i, 'product') % 200 as bigint) as product_no,
                cast(1 + hash(i, 'quantity') % 24 as bigint) as quantity,
                [0, 3, 5, 8, 10][cast(1 + hash(o, 'discount') % 5 as integer)]
                    as discount,
                cast(hash(o, 'customer') % 40 as bigint) as customer_no
            from numbered
        ),
        priced as (
            select
                *,
                500 + (product_no * 7919) % 50000 as price_cents,
                (quantity * (500 + (product_no * 7919) % 50000)
                    * (100 - discount) + 50) // 100 as amount_cents
            from drawn
        )
        select
            strftime(order_date, '%Y/%m/%d') as 单据日期,
            case when is_return then '退货' else '销售' end as 单据类型,
            case when is_return then 'TH' else 'XS' end
                || lpad(cast(o as varchar), 10, '0') as 单号,
            line_no as 行号,
            {_partner_code("partner_no")} as 经销商编码,
            '经销商' || cast(partner_no as varchar) as 经销商名称,
            'SKU' || lpad(cast(product_no as varchar), 4, '0') as 产品编码,
            '产品' || cast(product_no as varchar) as 产品名称,
            ['饮料', '零食', '日化', '乳品', '酒类'][1 + product_no % 5] as 产品类别,
            quantity as 数量,
            {_money("price_cents")} as 单价,
            cast(discount as varchar) || '%' as 折扣率,
            {_money("amount_cents")} as 折后金额,
            case when is_return
                then 'XS' || lpad(cast(greatest(o - 40, 0) as varchar), 10, '0')
                else '' end as 原单号,
            'C' || cast(partner_no as varchar) || '-'
                || cast(customer_no as varchar) as 客户编码
        from priced
        order by o, line_no
    """


def _partner_code(column: str) -> str:
    return f"'D' || lpad(cast({column} as varchar), 6, '0')"


def _money(cents: str, grouped: bool = False) -> str:
    whole = f"{cents} // 100"
    text = f"format('{{:,}}', {whole})" if grouped else f"cast({whole} as varchar)"
    return f"{text} || '.' || lpad(cast({cents} % 100 as varchar), 2, '0')"


def _write_sales(
    db: duckdb.DuckDBPyConnection, drop_dir: Path, scale: Scale
) -> list[Path]:
    """One GB18030 file per quarter; orders spread evenly over the days."""
    paths = []
    day = f"o * {WINDOW_DAYS} // {scale.orders}"
    for label, start, end in QUARTERS:
        first_order = _first_order_on((start - FIRST_DAY).days, scale.orders)
        last_order = _first_order_on((end - FIRST_DAY).days, scale.orders)
        path = drop_dir / SALES_FILE.format(quarter=label)
        select = _sales_select(
            scale, first_order * LINES_PER_ORDER, last_order * LINES_PER_ORDER, day
        )
        _copy_gb18030(db, select, path)
        paths.append(path)
    return paths


def _first_order_on(day: int, orders: int) -> int:
    """The smallest order number o with o * WINDOW_DAYS // orders >= day."""
    return min(orders, -(-day * orders // WINDOW_DAYS))


def _copy_gb18030(db: duckdb.DuckDBPyConnection, select: str, path: Path) -> None:
    staging = path.with_suffix(".utf8.tmp")
    db.execute(f"copy ({select}) to '{staging}' (header, delimiter ',')")
    with (
        staging.open(encoding="utf-8", newline="") as source,
        path.open("w", encoding="gb18030", newline="") as target,
    ):
        for chunk in iter(lambda: source.read(TRANSCODE_CHUNK), ""):
            target.write(chunk)
    staging.unlink()
    logger.info("wrote %s", path)


def _copy_csv(db: duckdb.DuckDBPyConnection, select: str, path: Path) -> Path:
    db.execute(f"copy ({select}) to '{path}' (header, delimiter ',')")
    logger.info("wrote %s", path)
    return path


def _write_payments(
    db: duckdb.DuckDBPyConnection, drop_dir: Path, scale: Scale
) -> Path:
    """One receipt per partner and month with sales: 70-100 % of the month."""
    day = f"o * {WINDOW_DAYS} // {scale.orders}"
    sales = _sales_select(scale, 0, scale.orders * LINES_PER_ORDER, day)
    select = f"""
        with lines as ({sales}),
        months as (
            select
                经销商编码 as partner_id,
                date_trunc('month', strptime(单据日期, '%Y/%m/%d'))::date as month,
                sum(cast(replace(折后金额, '.', '') as bigint)) as sales_cents
            from lines
            where 单据类型 = '销售'
            group by all
        ),
        paid as (
            select
                row_number() over (order by partner_id, month) as n,
                partner_id,
                month + interval '1 month'
                    + to_days(cast(hash(partner_id, month) % 20 as integer))
                    as paid_date,
                sales_cents * (70 + hash(partner_id, month, 'rate') % 31) // 100
                    as cents
            from months
        )
        select
            'HK' || lpad(cast(n as varchar), 10, '0') as 回款单号,
            strftime(paid_date, '%Y-%m-%d') as 到账日期,
            partner_id as 经销商编码,
            '经销商' || cast(cast(substr(partner_id, 2) as bigint) as varchar)
                as 经销商名称,
            {_money("cents", grouped=True)} as 回款金额,
            'CNY' as 币种,
            ['银行转账', '承兑汇票'][cast(1 + hash(n) % 2 as integer)] as 收款方式
        from paid
        order by n
    """
    return _copy_csv(db, select, drop_dir / "回款记录.csv")


def _write_feedback(
    db: duckdb.DuckDBPyConnection, drop_dir: Path, scale: Scale
) -> Path:
    count = max(scale.partners * TICKETS_PER_PARTNER, scale.lines // LINES_PER_TICKET)
    step = WINDOW_DAYS * 86_400 // count
    select = f"""
        with tickets as (
            select
                i,
                cast(hash(i, 'partner') % {scale.partners} as bigint) as partner_no,
                ['投诉', '投诉', '投诉', '投诉', '工单', '工单', '工单', '咨询', '咨询',
                    '满意度回访'][cast(1 + hash(i, 'kind') % 10 as integer)] as kind,
                timestamp '{FIRST_DAY} 08:00:00'
                    + to_seconds(i * {step} + hash(i, 'second') % 3600) as created_at,
                hash(i, 'reply') % 33 = 0 as is_unanswered,
                cast(1 + hash(i, 'hours') % 40 as integer) as reply_hours
            from range({count}) as t(i)
        )
        select
            'FK' || lpad(cast(i as varchar), 9, '0') as 工单编号,
            {_partner_code("partner_no")} as 经销商编码,
            '经销商' || cast(partner_no as varchar) as 经销商名称,
            kind as 类型,
            '问题 ' || cast(i as varchar) as 主题,
            strftime(created_at, '%Y-%m-%d %H:%M:%S') as 创建时间,
            case when is_unanswered then '' else strftime(
                created_at + to_hours(reply_hours), '%Y-%m-%d %H:%M:%S') end
                as 首次响应时间,
            case when is_unanswered then '' else strftime(
                created_at + to_hours(reply_hours + 48), '%Y-%m-%d %H:%M:%S') end
                as 解决时间,
            case when kind = '满意度回访' then cast(
                cast((10 + hash(i, 'score') % 41) / 10 as decimal(4, 1)) as varchar)
                else '' end as 满意度,
            '客服' || cast(i % 7 as varchar) as 处理人
        from tickets
        order by i
    """
    return _copy_csv(db, select, drop_dir / "客户反馈.csv")


def _write_targets(db: duckdb.DuckDBPyConnection, drop_dir: Path, scale: Scale) -> Path:
    labels = ", ".join(f"'{label}'" for label, _, _ in QUARTERS)
    select = f"""
        select
            {_partner_code("p")} as 经销商编码,
            '经销商' || cast(p as varchar) as 经销商名称,
            q as 考核期间,
            cast(50000 + hash(p, q) % 500000 as varchar) || '.00' as 目标金额,
            'CNY' as 币种
        from range({scale.partners}) as t(p), unnest([{labels}]) as u(q)
        order by p, q
    """
    return _copy_csv(db, select, drop_dir / "销售目标.csv")


def _write_contacts(
    db: duckdb.DuckDBPyConnection, drop_dir: Path, scale: Scale
) -> Path:
    select = f"""
        select
            {_partner_code("p")} as 经销商编码,
            '经销商' || cast(p as varchar) as 经销商名称,
            '联系人' || cast(p as varchar) as 联系人,
            '采购经理' as 职务,
            'd' || lpad(cast(p as varchar), 6, '0') || '@partners.example.com' as 邮箱,
            case when hash(p, 'language') % 10 = 0 then '英文' else '中文' end as 语言
        from range({scale.partners}) as t(p)
        order by p
    """
    return _copy_csv(db, select, drop_dir / "经销商联系人.csv")


def _write_partners(
    db: duckdb.DuckDBPyConnection, drop_dir: Path, scale: Scale
) -> Path:
    rows = db.execute(f"""
        select
            {_partner_code("p")}, '经销商' || cast(p as varchar), null, null,
            ['华东', '华南', '华北', '华中', '西南'][1 + p % 5],
            ['上海', '广州', '北京', '武汉', '成都'][1 + p % 5],
            case when p % 20 = 0 then '总代理' else '经销商' end,
            date '2020-01-01' + cast(hash(p, 'joined') % 1500 as integer),
            case when hash(p, 'status') % 50 = 0 then '停用' else '正常' end
        from range({scale.partners}) as t(p)
        order by p
    """)
    header = (
        "经销商编码", "经销商名称", "上级经销商编码", "上级经销商名称",
        "区域", "城市", "类型", "合作开始日期", "状态",
    )  # fmt: skip
    return _write_xlsx(drop_dir / "经销商档案.xlsx", "经销商", header, rows)


def _write_activities(
    db: duckdb.DuckDBPyConnection, drop_dir: Path, scale: Scale
) -> Path:
    count = scale.partners * ACTIVITY_ROWS_PER_PARTNER
    stride = max(1, scale.partners // PARTICIPANTS_PER_ACTIVITY)
    per = PARTICIPANTS_PER_ACTIVITY
    activities = count // per + 1
    rows = db.execute(f"""
        with rows as (
            select i, i // {per} as a,
                cast(((i // {per}) * 13 + (i % {per}) * {stride}) % {scale.partners}
                    as bigint) as p
            from range({count}) as t(i)
        )
        select
            'HD' || lpad(cast(a as varchar), 7, '0'),
            '活动' || cast(a as varchar),
            ['促销', '会议', '培训', '联合营销', '资源支持'][1 + a % 5],
            {_partner_code("p")},
            '经销商' || cast(p as varchar),
            date '{FIRST_DAY}' + cast(a * {WINDOW_DAYS} // {activities} as integer),
            date '{FIRST_DAY}' + cast(a * {WINDOW_DAYS} // {activities} + 2
                as integer),
            cast(1000 + hash(i, 'cost') % 50 * 100 as double),
            'CNY'
        from rows
        order by i
    """)
    header = (
        "活动编号", "活动名称", "活动类型", "经销商编码", "经销商名称",
        "开始日期", "结束日期", "投入费用", "币种",
    )  # fmt: skip
    return _write_xlsx(
        drop_dir / "市场活动.xlsx", "活动明细", header, rows, title="市场活动明细"
    )


def _fetched(result: duckdb.DuckDBPyConnection) -> Iterator[tuple[object, ...]]:
    while batch := result.fetchmany(10_000):
        yield from batch


def _write_xlsx(
    path: Path,
    sheet: str,
    header: tuple[str, ...],
    result: duckdb.DuckDBPyConnection,
    *,
    title: str | None = None,
) -> Path:
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"created": WORKBOOK_CREATED})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    worksheet = workbook.add_worksheet(sheet)
    first = 0
    if title is not None:
        worksheet.write_string(0, 0, title)
        first = 1
    worksheet.write_row(first, 0, header)
    for number, row in enumerate(_fetched(result), start=first + 1):
        for column, value in enumerate(row):
            if isinstance(value, date):
                worksheet.write_datetime(number, column, value, date_format)
            elif isinstance(value, float):
                worksheet.write_number(number, column, value)
            elif value is not None:
                worksheet.write_string(number, column, str(value))
    workbook.close()
    logger.info("wrote %s", path)
    return path

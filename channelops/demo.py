"""A deterministic demo channel network, written as customer-style exports.

``generate_demo`` writes what a Chinese brand's ERP and CRM would hand over
for its distributors and dealers: partner master data, contacts, quarterly
sales detail, collections (回款), partner feedback and marketing activities.
The files look like real exports (Chinese headers, UTF-8 with and without
BOM, GB18030, XLSX with date cells) and ``config/sources/demo.yml`` maps them
onto the input contract. All randomness comes from one seeded
``random.Random`` and nothing reads the clock, so the same arguments give
byte-identical files. Used by the CLI, the smoke tests and local runs.
"""

from __future__ import annotations

import csv
import logging
import math
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from channelops.settings import DEFAULT_CONFIG_DIR

logger = logging.getLogger(__name__)

# The committed mapping that reads what generate_demo writes.
DEMO_MAPPING = DEFAULT_CONFIG_DIR / "sources" / "demo.yml"

PARTNERS_FILE = "经销商档案.xlsx"
PARTNERS_SHEET = "经销商"
CONTACTS_FILE = "经销商联系人.csv"
SALES_FILE = "销售明细_{quarter}.csv"
PAYMENTS_FILE = "回款记录.csv"
FEEDBACK_FILE = "客户反馈.csv"
ACTIVITIES_FILE = "市场活动.xlsx"
ACTIVITIES_SHEET = "活动明细"

# ERP exports for Chinese Excel users: sales detail in the legacy code page,
# CRM exports as UTF-8 with a BOM so Excel shows them right, finance as plain
# UTF-8.
SALES_ENCODING = "gb18030"
BOM_ENCODING = "utf-8-sig"
PLAIN_ENCODING = "utf-8"

# XLSX stores a creation time; a fixed one keeps the bytes reproducible.
WORKBOOK_CREATED = datetime(2026, 1, 1)

CENT = Decimal("0.01")
QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")

# Enough partners for master distributors, sub-distributors, churners and
# inactive partners to all appear.
MIN_PARTNERS = 12
# The name parts give about 10,000 combinations; far below that, drawing
# unique names stays quick.
MAX_PARTNERS = 2000
NAME_ATTEMPTS = 10_000

SUB_DISTRIBUTOR_SHARE = 0.25
MASTER_DISTRIBUTOR_SHARE = 0.2
# Partners that joined during the demo period and ramp up.
NEW_PARTNER_SHARE = 0.05
INACTIVE_SHARE = 0.05
CHURNER_COUNT = 2
# Order volume kept by a churner in its last quarters: nearly nothing.
CHURN_LEVEL = 0.08
CHURN_QUARTERS = 2
# How far back partners' cooperation starts, before the first quarter.
HISTORY_YEARS = 9
RAMP_UP = (0.4, 0.7)
YEARLY_GROWTH_RANGE = (-0.25, 0.35)
# Q1 has the Spring Festival lull, Q2 the 618 sales, Q4 Double Eleven.
SEASONALITY = {1: 0.85, 2: 1.0, 3: 0.9, 4: 1.25}
# Dealers push orders in the last two working weeks of a quarter.
QUARTER_END_WEEKDAYS = 10
QUARTER_END_SHARE = 0.3
LINES_PER_ORDER = (1, 2, 3, 4, 5)
LINES_PER_ORDER_WEIGHTS = (30, 25, 20, 15, 10)
DISCOUNTS = tuple(Decimal(d) for d in ("0", "0.03", "0.05", "0.08", "0.10", "0.12"))
DISCOUNT_WEIGHTS = (50, 15, 15, 10, 7, 3)
# Price at which a partner's quantity scale means units per line.
REFERENCE_PRICE = 500.0
# Share of sale lines that come back; a few fall after the last quarter.
RETURN_SHARE = 0.032
RETURN_LAG_DAYS = (5, 45)

LOW_COLLECTION_SHARE = 0.2
LOW_COLLECTION_RANGE = (0.70, 0.85)
FULL_COLLECTION_RANGE = (0.97, 1.0)
PAYMENT_JITTER_DAYS = (-10, 20)
SPLIT_PAYMENT_SHARE = 0.35
FIRST_INSTALMENT = Decimal("0.6")
SECOND_INSTALMENT_DAYS = (15, 30)
ROUND_AMOUNT_SHARE = 0.3
ROUND_AMOUNT = Decimal("100")
ACCEPTANCE_BILL_SHARE = 0.5

# Expected feedback items per partner per quarter, by partner type.
FEEDBACK_RATE = {"总代理": 2.0, "经销商": 1.0, "分销商": 0.5}
# Churners complain more in the quarters before they stop ordering.
CHURN_COMPLAINT_FACTOR = 2.5
SURVEY_SHARE = 0.3
OFF_HOURS_SHARE = 0.12
NEVER_ANSWERED_SHARE = 0.03
LATE_SHARE = 0.12
LATE_SHARE_OFF_HOURS = 0.45
RESPONSE_TARGET = timedelta(hours=24)
SCORED_SHARE = 0.4
SCORES = tuple(Decimal(s) for s in ("1.0", "1.5", "2.0", "2.5", "3.0", "3.5"))
GOOD_SCORES = tuple(Decimal(s) for s in ("3.5", "4.0", "4.5", "5.0"))

PROMOTION_SHARE = 0.55
CONVENTION_SHARE = 0.5
LAUNCH_EVENT_SHARE = 0.5
ENGLISH_SHARE = 0.08
SECOND_CONTACT_SHARE = 0.4

REGION_CITIES: dict[str, tuple[str, ...]] = {
    "华东": (
        "上海", "杭州", "南京", "苏州", "宁波", "无锡",
        "合肥", "济南", "青岛", "福州", "厦门", "温州",
    ),
    "华南": ("广州", "深圳", "东莞", "佛山", "南宁", "海口", "珠海"),
    "华北": ("北京", "天津", "石家庄", "太原", "呼和浩特", "唐山"),
    "华中": ("武汉", "长沙", "郑州", "南昌", "宜昌", "洛阳"),
    "西南": ("成都", "重庆", "昆明", "贵阳", "绵阳"),
    "西北": ("西安", "兰州", "乌鲁木齐", "银川", "西宁"),
    "东北": ("沈阳", "大连", "长春", "哈尔滨"),
}  # fmt: skip
REGION_WEIGHTS = {
    "华东": 30, "华南": 20, "华北": 15, "华中": 12, "西南": 12, "西北": 5, "东北": 6,
}  # fmt: skip
TRADE_NAMES = (
    "恒达", "鑫源", "华信", "宏远", "盛世", "永兴", "金鼎", "瑞丰", "博远", "嘉禾",
    "天成", "汇通", "新锐", "明辉", "泰和", "隆盛", "百川", "佳美", "润泽", "海纳",
    "同创", "开元", "众诚", "卓越", "德润", "优品", "安泰", "信达", "东升", "锦程",
)  # fmt: skip
COMPANY_SUFFIXES = (
    "商贸有限公司", "贸易有限公司", "电器有限公司", "电器销售有限公司",
    "科技有限公司", "实业有限公司", "家电有限公司", "供应链管理有限公司",
)  # fmt: skip
SURNAMES = (
    ("张", "zhang"), ("王", "wang"), ("李", "li"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("周", "zhou"), ("吴", "wu"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("罗", "luo"), ("高", "gao"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
)  # fmt: skip
GIVEN_NAMES = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"),
    ("刚", "gang"), ("建华", "jianhua"), ("志强", "zhiqiang"), ("晓东", "xiaodong"),
    ("海燕", "haiyan"), ("婷婷", "tingting"), ("俊杰", "junjie"),
)  # fmt: skip
# Reserved for documentation (RFC 2606), so no demo mail can reach anyone.
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
CONTACT_ROLES = ("总经理", "采购经理")
FINANCE_ROLE = "财务"
SUPPORT_STAFF = ("王丽", "陈静", "刘洋", "赵敏", "孙磊")

MASTER, DEALER, SUB = "总代理", "经销商", "分销商"
ACTIVE, INACTIVE = "正常", "停用"
SALE, RETURN = "销售", "退货"
CHINESE, ENGLISH = "中文", "英文"
SALE_PREFIX, RETURN_PREFIX, PAYMENT_PREFIX, FEEDBACK_PREFIX = "XS", "TH", "HK", "FK"

COMPLAINT, TICKET, INQUIRY, SURVEY = "投诉", "工单", "咨询", "满意度回访"
FEEDBACK_KINDS = (COMPLAINT, TICKET, INQUIRY)
FEEDBACK_KIND_WEIGHTS = (30, 40, 30)
SUBJECTS = {
    COMPLAINT: (
        "到货外箱破损", "发货延迟超过一周", "返利到账延迟", "周边区域窜货，价格混乱",
        "售后维修周期过长", "促销政策执行不一致",
    ),
    TICKET: (
        "申请开具增值税专用发票", "更新收货地址", "系统下单报错", "申请样机",
        "对账单金额不一致", "申请调换货",
    ),
    INQUIRY: (
        "新品上市时间", "季度促销政策咨询", "返利政策咨询", "库存与到货时间查询",
        "培训报名咨询",
    ),
}  # fmt: skip
SURVEY_SUBJECT = "季度满意度回访"

PROMOTION, EVENT, TRAINING = "促销", "会议", "培训"
CO_MARKETING, RESOURCE = "联合营销", "资源支持"
PROMOTION_NAMES = {
    1: "{year}年春节备货促销",
    2: "{year}年618年中促销",
    3: "{year}年暑期促销",
    4: "{year}年双十一备货促销",
}
TRAINING_NAMES = (
    "新品培训：IH电饭煲系列", "售后维修技能培训", "门店陈列与导购培训",
    "渠道政策与返利解读", "线上店铺运营培训",
)  # fmt: skip
CO_MARKETING_NAMES = (
    "抖音直播联合推广", "京东店铺联合促销", "社区团购联合营销", "门店联合地推",
)  # fmt: skip
RESOURCE_NAMES = ("门店展柜补贴", "样机支持", "导购员补贴", "门头广告支持")


@dataclass(frozen=True)
class Product:
    """One catalogue item sold to partners, priced in CNY."""

    product_id: str
    name: str
    category: str
    price: Decimal


def _catalogue() -> tuple[Product, ...]:
    rows = (
        ("KA-101", "IH电饭煲 4L", "厨房电器", "599.00"),
        ("KA-102", "智能电压力锅 5L", "厨房电器", "459.00"),
        ("KA-103", "破壁料理机", "厨房电器", "899.00"),
        ("KA-104", "空气炸锅 5.5L", "厨房电器", "399.00"),
        ("KA-105", "电烤箱 32L", "厨房电器", "529.00"),
        ("LA-201", "无线吸尘器", "生活电器", "1299.00"),
        ("LA-202", "扫地机器人", "生活电器", "2499.00"),
        ("LA-203", "蒸汽挂烫机", "生活电器", "329.00"),
        ("LA-204", "电热水壶 1.7L", "生活电器", "129.00"),
        ("EA-301", "空气净化器", "环境电器", "1699.00"),
        ("EA-302", "除湿机 20L", "环境电器", "1499.00"),
        ("EA-303", "加湿器 4L", "环境电器", "259.00"),
        ("EA-304", "暖风机", "环境电器", "359.00"),
        ("PC-401", "高速吹风机", "个人护理", "799.00"),
        ("PC-402", "电动牙刷", "个人护理", "299.00"),
        ("PC-403", "电动剃须刀", "个人护理", "399.00"),
        ("PC-404", "卷发棒", "个人护理", "199.00"),
        ("AC-501", "净化器滤网", "配件耗材", "189.00"),
        ("AC-502", "吸尘器电池组", "配件耗材", "269.00"),
        ("AC-503", "牙刷替换头（4支装）", "配件耗材", "89.00"),
        ("AC-504", "料理机刀组", "配件耗材", "119.00"),
    )
    return tuple(Product(p, n, c, Decimal(price)) for p, n, c, price in rows)


PRODUCTS = _catalogue()


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter such as 2025Q3."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str, argument: str) -> Quarter:
        """Read ``YYYYQn``; ``argument`` names the parameter in the error."""
        match = QUARTER_PATTERN.match(text)
        if match is None:
            raise ValueError(
                f"{argument} {text!r} is not a quarter; write it as YYYYQn, "
                "e.g. '2025Q3'"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    def next(self) -> Quarter:
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)


@dataclass(frozen=True)
class DemoSummary:
    """What generate_demo wrote: quarters covered, rows per dataset, files."""

    quarters: tuple[str, ...]
    partners: int
    partner_contacts: int
    order_lines: int
    payments: int
    feedback: int
    activities: int
    files: tuple[Path, ...]

    @property
    def counts(self) -> dict[str, int]:
        """Rows per contract dataset."""
        return {
            "partners": self.partners,
            "partner_contacts": self.partner_contacts,
            "order_lines": self.order_lines,
            "payments": self.payments,
            "feedback": self.feedback,
            "activities": self.activities,
        }


@dataclass(frozen=True)
class _Partner:
    partner_id: str
    name: str
    parent_id: str | None
    region: str
    city: str
    partner_type: str
    joined_date: date
    orders_per_quarter: float
    quantity_scale: float
    yearly_growth: float
    collection_rate: Decimal
    payment_terms_days: int
    pays_round_amounts: bool
    churn_from: int | None = None
    stop_from: int | None = None

    @property
    def status(self) -> str:
        return INACTIVE if self.stop_from is not None else ACTIVE

    def orders_in(self, index: int) -> bool:
        """Whether the partner still orders in the index-th demo quarter."""
        return self.stop_from is None or index < self.stop_from


@dataclass(frozen=True)
class _Contact:
    partner: _Partner
    name: str
    role: str
    email: str
    language: str


@dataclass(frozen=True)
class _Order:
    order_id: str
    kind: str
    order_date: date
    partner: _Partner
    discount: Decimal
    items: tuple[tuple[Product, int], ...]
    original_order_id: str = ""


@dataclass(frozen=True)
class _Payment:
    payment_id: str
    partner: _Partner
    paid_date: date
    amount: Decimal
    method: str


@dataclass(frozen=True)
class _Feedback:
    feedback_id: str
    partner: _Partner
    kind: str
    subject: str
    created_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    satisfaction: Decimal | None
    handler: str


@dataclass(frozen=True)
class _Activity:
    activity_id: str
    kind: str
    name: str
    start: date
    end: date | None
    participants: tuple[tuple[_Partner, Decimal | None], ...]


@dataclass(frozen=True)
class _Window:
    quarters: tuple[Quarter, ...]

    @property
    def start(self) -> date:
        return self.quarters[0].start

    @property
    def end(self) -> date:
        return self.quarters[-1].end

    @property
    def closes_at(self) -> datetime:
        """The export's cut-off: later replies have not happened yet."""
        return datetime.combine(self.end, time(23, 59, 59))


def generate_demo(
    drop_dir: Path,
    *,
    seed: int = 7,
    partner_count: int = 60,
    first_quarter: str = "2024Q4",
    last_quarter: str = "2026Q3",
) -> DemoSummary:
    """Write a demo channel network's export files into ``drop_dir``."""
    window = _window(first_quarter, last_quarter)
    _check_partner_count(partner_count)
    rng = random.Random(seed)

    partners = _partners(rng, partner_count, window)
    contacts = _contacts(rng, partners)
    sales = _sales_orders(rng, partners, window)
    orders = sales + _return_orders(rng, sales, window)
    payments = _payments(rng, partners, orders, window)
    feedback = _feedback(rng, partners, window)
    activities = _activities(rng, partners, window)

    drop_dir.mkdir(parents=True, exist_ok=True)
    files = [
        _write_partners(drop_dir, partners),
        _write_contacts(drop_dir, contacts),
        *_write_sales(drop_dir, orders, window),
        _write_payments(drop_dir, payments),
        _write_feedback(drop_dir, feedback),
        _write_activities(drop_dir, activities, window),
    ]
    summary = DemoSummary(
        quarters=tuple(q.label for q in window.quarters),
        partners=len(partners),
        partner_contacts=len(contacts),
        order_lines=sum(len(o.items) for o in orders),
        payments=len(payments),
        feedback=len(feedback),
        activities=sum(len(a.participants) for a in activities),
        files=tuple(files),
    )
    logger.info(
        "demo seed %d: %d partners, %d order lines over %s..%s in %s",
        seed,
        summary.partners,
        summary.order_lines,
        first_quarter,
        last_quarter,
        drop_dir,
    )
    return summary


def _window(first_quarter: str, last_quarter: str) -> _Window:
    first = Quarter.parse(first_quarter, "first_quarter")
    last = Quarter.parse(last_quarter, "last_quarter")
    if first > last:
        raise ValueError(
            f"first_quarter {first_quarter!r} is after last_quarter "
            f"{last_quarter!r}; swap them"
        )
    quarters = [first]
    while quarters[-1] < last:
        quarters.append(quarters[-1].next())
    return _Window(tuple(quarters))


def _check_partner_count(partner_count: int) -> None:
    if not MIN_PARTNERS <= partner_count <= MAX_PARTNERS:
        raise ValueError(
            f"partner_count must be between {MIN_PARTNERS} and {MAX_PARTNERS}, "
            f"got {partner_count!r}"
        )


# Partners ------------------------------------------------------------------


def _partners(rng: random.Random, count: int, window: _Window) -> list[_Partner]:
    """Masters, dealers and sub-distributors, numbered in order of joining."""
    sub_count = round(count * SUB_DISTRIBUTOR_SHARE)
    master_count = max(1, round((count - sub_count) * MASTER_DISTRIBUTOR_SHARE))
    dealer_count = count - sub_count - master_count
    names: set[str] = set()

    masters = [_master(rng, i, names, window) for i in range(master_count)]
    dealers = [_dealer(rng, names, window) for _ in range(dealer_count)]
    subs = [_sub(rng, rng.choice(masters), names, window) for _ in range(sub_count)]
    drafts = sorted(masters + dealers + subs, key=lambda p: p.joined_date)

    ids = {p.name: f"P{n:04d}" for n, p in enumerate(drafts, start=1)}
    partners = [
        replace(
            p,
            partner_id=ids[p.name],
            parent_id=None if p.parent_id is None else ids[p.parent_id],
        )
        for p in drafts
    ]
    return _with_churners_and_inactive(rng, partners, window)


def _master(
    rng: random.Random, index: int, names: set[str], window: _Window
) -> _Partner:
    regions = list(REGION_CITIES)
    region = regions[index] if index < len(regions) else _region(rng)
    history_start = _years_before(window.start, HISTORY_YEARS)
    midpoint = _years_before(window.start, HISTORY_YEARS // 2)
    return _draft(
        rng,
        names,
        region=region,
        partner_type=MASTER,
        joined_date=_day_between(rng, history_start, midpoint),
        orders_per_quarter=rng.uniform(14, 28),
        payment_terms_days=60,
    )


def _dealer(rng: random.Random, names: set[str], window: _Window) -> _Partner:
    if rng.random() < NEW_PARTNER_SHARE:
        last_start = window.quarters[len(window.quarters) // 2].start
        joined = _day_between(rng, window.start, last_start)
    else:
        history_start = _years_before(window.start, HISTORY_YEARS)
        joined = _day_between(rng, history_start, window.start)
    return _draft(
        rng,
        names,
        region=_region(rng),
        partner_type=DEALER,
        joined_date=joined,
        orders_per_quarter=min(20.0, max(1.0, rng.lognormvariate(math.log(5), 0.7))),
        payment_terms_days=rng.choice((30, 45, 60)),
    )


def _sub(
    rng: random.Random, parent: _Partner, names: set[str], window: _Window
) -> _Partner:
    earliest = parent.joined_date + timedelta(days=90)
    sub = _draft(
        rng,
        names,
        region=parent.region,
        partner_type=SUB,
        joined_date=_day_between(rng, earliest, window.start),
        orders_per_quarter=rng.uniform(1.0, 4.0),
        payment_terms_days=30,
    )
    # Until ids are given out, a draft points to its parent by name.
    return replace(sub, parent_id=parent.name)


def _draft(
    rng: random.Random,
    names: set[str],
    *,
    region: str,
    partner_type: str,
    joined_date: date,
    orders_per_quarter: float,
    payment_terms_days: int,
) -> _Partner:
    city = rng.choice(REGION_CITIES[region])
    low = rng.random() < LOW_COLLECTION_SHARE
    rate = rng.uniform(*(LOW_COLLECTION_RANGE if low else FULL_COLLECTION_RANGE))
    return _Partner(
        partner_id="",
        name=_unique_name(rng, city, names),
        parent_id=None,
        region=region,
        city=city,
        partner_type=partner_type,
        joined_date=joined_date,
        orders_per_quarter=orders_per_quarter,
        quantity_scale=0.4 + orders_per_quarter / 8,
        yearly_growth=rng.uniform(*YEARLY_GROWTH_RANGE),
        collection_rate=Decimal(f"{rate:.3f}"),
        payment_terms_days=payment_terms_days,
        pays_round_amounts=rng.random() < ROUND_AMOUNT_SHARE,
    )


def _unique_name(rng: random.Random, city: str, names: set[str]) -> str:
    for _ in range(NAME_ATTEMPTS):
        name = city + rng.choice(TRADE_NAMES) + rng.choice(COMPANY_SUFFIXES)
        if name not in names:
            names.add(name)
            return name
    raise ValueError(
        f"no unused company name left for city {city!r} after {NAME_ATTEMPTS} "
        "draws; lower partner_count or add trade names"
    )


def _region(rng: random.Random) -> str:
    return rng.choices(list(REGION_WEIGHTS), weights=list(REGION_WEIGHTS.values()))[0]


def _with_churners_and_inactive(
    rng: random.Random, partners: list[_Partner], window: _Window
) -> list[_Partner]:
    """Mark a few dealers as nearly stopping, and a few as stopped (inactive)."""
    parents = {p.parent_id for p in partners}
    settled = [
        p
        for p in partners
        if p.partner_type == DEALER
        and p.joined_date < window.start
        and p.partner_id not in parents
    ]
    by_size = sorted(settled, key=lambda p: -p.orders_per_quarter)
    churners = rng.sample(by_size[: len(by_size) // 2], CHURNER_COUNT)
    rest = [p for p in settled if p not in churners]
    inactive = rng.sample(rest, max(1, round(len(partners) * INACTIVE_SHARE)))

    quarter_count = len(window.quarters)
    churn_from = max(1, quarter_count - CHURN_QUARTERS)
    last_stop = max(1, quarter_count - CHURN_QUARTERS - 1)
    marked = {p.partner_id: replace(p, churn_from=churn_from) for p in churners}
    for partner in inactive:
        stop_from = rng.randint(1, last_stop)
        marked[partner.partner_id] = replace(partner, stop_from=stop_from)
    return [marked.get(p.partner_id, p) for p in partners]


def _contacts(rng: random.Random, partners: Sequence[_Partner]) -> list[_Contact]:
    contacts: list[_Contact] = []
    for partner in partners:
        domain = f"{partner.partner_id.lower()}.{rng.choice(EMAIL_DOMAINS)}"
        count = 2 if rng.random() < SECOND_CONTACT_SHARE else 1
        roles = [rng.choice(CONTACT_ROLES), FINANCE_ROLE][:count]
        used: set[str] = set()
        for role in roles:
            name, email = _contact_name(rng, domain, used)
            english = rng.random() < ENGLISH_SHARE
            language = ENGLISH if english else CHINESE
            contacts.append(_Contact(partner, name, role, email, language))
    return contacts


def _contact_name(rng: random.Random, domain: str, used: set[str]) -> tuple[str, str]:
    while True:
        surname, surname_pinyin = rng.choice(SURNAMES)
        given, given_pinyin = rng.choice(GIVEN_NAMES)
        email = f"{surname_pinyin}.{given_pinyin}@{domain}"
        if email not in used:
            used.add(email)
            return surname + given, email


# Sales and returns ---------------------------------------------------------


def _sales_orders(
    rng: random.Random, partners: Sequence[_Partner], window: _Window
) -> list[_Order]:
    drafts: list[_Order] = []
    for index, quarter in enumerate(window.quarters):
        weekdays = _weekdays(quarter.start, quarter.end)
        for partner in partners:
            days = [d for d in weekdays if d >= partner.joined_date]
            if not days or not partner.orders_in(index):
                continue
            share_open = len(days) / len(weekdays)
            mean = _expected_orders(partner, quarter, index) * share_open
            for _ in range(_poisson(rng, mean)):
                drafts.append(_sale(rng, partner, days))
    return _numbered(drafts, SALE_PREFIX)


def _expected_orders(partner: _Partner, quarter: Quarter, index: int) -> float:
    """Orders a partner places in a quarter: size, season, trend, ramp, churn."""
    trend = (1 + partner.yearly_growth) ** (index / 4)
    mean = partner.orders_per_quarter * SEASONALITY[quarter.number] * trend
    quarters_in = _quarters_since(partner.joined_date, quarter)
    if quarters_in < len(RAMP_UP):
        mean *= RAMP_UP[quarters_in]
    if partner.churn_from is not None and index >= partner.churn_from:
        mean *= CHURN_LEVEL
    return mean


def _sale(rng: random.Random, partner: _Partner, days: Sequence[date]) -> _Order:
    rush = days[-QUARTER_END_WEEKDAYS:]
    day = rng.choice(rush if rng.random() < QUARTER_END_SHARE else days)
    line_count = rng.choices(LINES_PER_ORDER, weights=LINES_PER_ORDER_WEIGHTS)[0]
    products = rng.sample(PRODUCTS, line_count)
    items = tuple((p, _quantity(rng, partner, p)) for p in products)
    discount = rng.choices(DISCOUNTS, weights=DISCOUNT_WEIGHTS)[0]
    return _Order("", SALE, day, partner, discount, items)


def _quantity(rng: random.Random, partner: _Partner, product: Product) -> int:
    price_factor = math.sqrt(REFERENCE_PRICE / float(product.price))
    return max(1, round(partner.quantity_scale * rng.uniform(4, 16) * price_factor))


def _return_orders(
    rng: random.Random, sales: Sequence[_Order], window: _Window
) -> list[_Order]:
    """Single-line return documents booked days or weeks after the sale."""
    drafts: list[_Order] = []
    for order in sales:
        for product, quantity in order.items:
            if rng.random() >= RETURN_SHARE:
                continue
            lag = timedelta(days=rng.randint(*RETURN_LAG_DAYS))
            booked = _next_weekday(order.order_date + lag)
            returned = rng.randint(1, max(1, quantity // 3))
            if booked <= window.end:
                sale = replace(order, kind=RETURN, order_date=booked)
                item = ((product, returned),)
                drafts.append(
                    replace(sale, items=item, original_order_id=order.order_id)
                )
    return _numbered(drafts, RETURN_PREFIX)


def _numbered(drafts: Iterable[_Order], prefix: str) -> list[_Order]:
    """Give documents ids like XS202507030004, counting per day in date order."""
    per_day: dict[date, int] = defaultdict(int)
    numbered: list[_Order] = []
    for draft in sorted(drafts, key=lambda o: o.order_date):
        per_day[draft.order_date] += 1
        sequence = per_day[draft.order_date]
        order_id = f"{prefix}{draft.order_date:%Y%m%d}{sequence:04d}"
        numbered.append(replace(draft, order_id=order_id))
    return numbered


def net_amount(quantity: int, unit_price: Decimal, discount: Decimal) -> Decimal:
    """Line amount after discount, rounded half up to the cent."""
    gross = Decimal(quantity) * unit_price * (1 - discount)
    return gross.quantize(CENT, rounding=ROUND_HALF_UP)


# Payments ------------------------------------------------------------------


def _payments(
    rng: random.Random,
    partners: Sequence[_Partner],
    orders: Sequence[_Order],
    window: _Window,
) -> list[_Payment]:
    """Collections following each month's net invoicing, after payment terms."""
    invoiced = _invoiced_by_month(orders)
    drafts: list[_Payment] = []
    for partner in partners:
        for month_end, amount in sorted(invoiced[partner.partner_id].items()):
            drafts.extend(_collections(rng, partner, month_end, amount, window))

    per_day: dict[date, int] = defaultdict(int)
    payments: list[_Payment] = []
    for draft in sorted(drafts, key=lambda p: p.paid_date):
        per_day[draft.paid_date] += 1
        sequence = per_day[draft.paid_date]
        payment_id = f"{PAYMENT_PREFIX}{draft.paid_date:%Y%m%d}{sequence:03d}"
        payments.append(replace(draft, payment_id=payment_id))
    return payments


def _invoiced_by_month(orders: Sequence[_Order]) -> dict[str, dict[date, Decimal]]:
    """Net invoiced amount per partner, keyed by the month's last day."""
    invoiced: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for order in orders:
        month_end = _month_end(order.order_date)
        sign = 1 if order.kind == SALE else -1
        for product, quantity in order.items:
            amount = net_amount(quantity, product.price, order.discount)
            invoiced[order.partner.partner_id][month_end] += sign * amount
    return invoiced


def _collections(
    rng: random.Random,
    partner: _Partner,
    month_end: date,
    invoiced: Decimal,
    window: _Window,
) -> list[_Payment]:
    due = (invoiced * partner.collection_rate).quantize(CENT, ROUND_HALF_UP)
    if due <= 0:
        return []
    parts = [due]
    if rng.random() < SPLIT_PAYMENT_SHARE:
        first = (due * FIRST_INSTALMENT).quantize(CENT, ROUND_HALF_UP)
        parts = [first, due - first]
    lag = partner.payment_terms_days + rng.randint(*PAYMENT_JITTER_DAYS)
    paid = _next_weekday(month_end + timedelta(days=max(1, lag)))
    bill = partner.pays_round_amounts and rng.random() < ACCEPTANCE_BILL_SHARE
    method = "银行承兑汇票" if bill else "银行转账"

    payments: list[_Payment] = []
    for part in parts:
        amount = _rounded(part) if partner.pays_round_amounts else part
        if paid <= window.end and amount > 0:
            payments.append(_Payment("", partner, paid, amount, method))
        later = timedelta(days=rng.randint(*SECOND_INSTALMENT_DAYS))
        paid = _next_weekday(paid + later)
    return payments


def _rounded(amount: Decimal) -> Decimal:
    """Round down to whole hundreds, as partners paying round sums do."""
    hundreds = (amount / ROUND_AMOUNT).to_integral_value(rounding=ROUND_DOWN)
    return (hundreds * ROUND_AMOUNT).quantize(CENT)


# Feedback ------------------------------------------------------------------


def _feedback(
    rng: random.Random, partners: Sequence[_Partner], window: _Window
) -> list[_Feedback]:
    drafts: list[_Feedback] = []
    for index, quarter in enumerate(window.quarters):
        days = _days(quarter.start, quarter.end)
        for partner in partners:
            open_days = [d for d in days if d >= partner.joined_date]
            if not open_days or not partner.orders_in(index):
                continue
            rate = FEEDBACK_RATE[partner.partner_type]
            if partner.churn_from is not None and index >= partner.churn_from - 2:
                rate *= CHURN_COMPLAINT_FACTOR
            for _ in range(_poisson(rng, rate)):
                drafts.append(_ticket(rng, partner, open_days, window))
            if rng.random() < SURVEY_SHARE:
                drafts.append(_survey(rng, partner, open_days))
    return _numbered_feedback(drafts)


def _ticket(
    rng: random.Random, partner: _Partner, days: Sequence[date], window: _Window
) -> _Feedback:
    kind = rng.choices(FEEDBACK_KINDS, weights=FEEDBACK_KIND_WEIGHTS)[0]
    off_hours = rng.random() < OFF_HOURS_SHARE
    created = _off_hours_time(rng, days) if off_hours else _office_time(rng, days)
    responded = _first_response(rng, created, off_hours or created.weekday() >= 5)
    resolved = None
    if responded is not None:
        hours = 0.2 if kind == INQUIRY else rng.uniform(1, 240)
        resolved = responded + timedelta(hours=hours * rng.uniform(0.5, 1.5))
    resolved = _by(resolved, window)
    score = None
    if resolved is not None and rng.random() < SCORED_SHARE:
        late = responded is not None and responded - created > RESPONSE_TARGET
        score = rng.choice(SCORES if late else GOOD_SCORES)
    return _Feedback(
        feedback_id="",
        partner=partner,
        kind=kind,
        subject=rng.choice(SUBJECTS[kind]),
        created_at=created,
        first_response_at=_by(responded, window),
        resolved_at=resolved,
        satisfaction=score,
        handler=rng.choice(SUPPORT_STAFF),
    )


def _first_response(
    rng: random.Random, created: datetime, off_hours: bool
) -> datetime | None:
    """Most replies come within a day; some take days; a few never come."""
    draw = rng.random()
    if draw < NEVER_ANSWERED_SHARE:
        return None
    late_share = LATE_SHARE_OFF_HOURS if off_hours else LATE_SHARE
    if draw < NEVER_ANSWERED_SHARE + late_share:
        return created + timedelta(minutes=rng.randint(24 * 60 + 1, 5 * 24 * 60))
    return created + timedelta(minutes=rng.randint(5, 20 * 60))


def _survey(rng: random.Random, partner: _Partner, days: Sequence[date]) -> _Feedback:
    churning = partner.churn_from is not None
    return _Feedback(
        feedback_id="",
        partner=partner,
        kind=SURVEY,
        subject=SURVEY_SUBJECT,
        created_at=_office_time(rng, days[-30:]),
        first_response_at=None,
        resolved_at=None,
        satisfaction=rng.choice(SCORES if churning else SCORES[3:] + GOOD_SCORES),
        handler=rng.choice(SUPPORT_STAFF),
    )


def _office_time(rng: random.Random, days: Sequence[date]) -> datetime:
    weekdays = [d for d in days if d.weekday() < 5] or list(days)
    minute = rng.randint(9 * 60, 18 * 60 - 1)
    return _at(rng.choice(weekdays), minute, rng.randint(0, 59))


def _off_hours_time(rng: random.Random, days: Sequence[date]) -> datetime:
    """A Friday evening or a weekend day, when nobody is on duty."""
    fridays = [d for d in days if d.weekday() == 4]
    weekends = [d for d in days if d.weekday() >= 5]
    if fridays and (not weekends or rng.random() < 0.5):
        minute = rng.randint(18 * 60, 23 * 60 + 59)
        return _at(rng.choice(fridays), minute, rng.randint(0, 59))
    if weekends:
        minute = rng.randint(8 * 60, 22 * 60)
        return _at(rng.choice(weekends), minute, rng.randint(0, 59))
    return _office_time(rng, days)


def _at(day: date, minute: int, second: int) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60, second))


def _by(moment: datetime | None, window: _Window) -> datetime | None:
    """Drop what would happen after the export was taken."""
    if moment is None or moment > window.closes_at:
        return None
    return moment.replace(microsecond=0)


def _numbered_feedback(drafts: Iterable[_Feedback]) -> list[_Feedback]:
    per_day: dict[date, int] = defaultdict(int)
    numbered: list[_Feedback] = []
    for draft in sorted(drafts, key=lambda f: f.created_at):
        day = draft.created_at.date()
        per_day[day] += 1
        feedback_id = f"{FEEDBACK_PREFIX}{day:%Y%m%d}{per_day[day]:03d}"
        numbered.append(replace(draft, feedback_id=feedback_id))
    return numbered


# Activities ----------------------------------------------------------------


def _activities(
    rng: random.Random, partners: Sequence[_Partner], window: _Window
) -> list[_Activity]:
    activities: list[_Activity] = []
    for index, quarter in enumerate(window.quarters):
        present = [
            p for p in partners if p.joined_date <= quarter.start and p.orders_in(index)
        ]
        drafts = [
            _promotion(rng, quarter, present),
            _training(rng, quarter, present),
            *_events(rng, quarter, present),
            *_co_marketing(rng, quarter, present),
            *_resource_grants(rng, quarter, present),
        ]
        drafts = [a for a in drafts if a.participants]
        drafts.sort(key=lambda a: a.start)
        for number, draft in enumerate(drafts, start=1):
            activity_id = f"HD{quarter.label}-{number:02d}"
            activities.append(replace(draft, activity_id=activity_id))
    return activities


def _promotion(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> _Activity:
    start = quarter.start + timedelta(days=rng.randint(0, 20))
    end = start + timedelta(days=rng.randint(14, 30))
    taking_part = [
        (p, None)
        for p in present
        if p.partner_type == MASTER or rng.random() < PROMOTION_SHARE
    ]
    name = PROMOTION_NAMES[quarter.number].format(year=quarter.year)
    return _Activity("", PROMOTION, name, start, end, tuple(taking_part))


def _training(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> _Activity:
    start = _next_weekday(quarter.start + timedelta(days=rng.randint(10, 70)))
    end = start + timedelta(days=rng.randint(0, 1))
    chosen = rng.sample(list(present), min(len(present), rng.randint(5, 15)))
    has_cost = rng.random() < 0.5
    taking_part = [
        (p, Decimal(rng.choice((800, 1500, 2000))) if has_cost else None)
        for p in sorted(chosen, key=lambda p: p.partner_id)
    ]
    name = rng.choice(TRAINING_NAMES)
    return _Activity("", TRAINING, name, start, end, tuple(taking_part))


def _events(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> list[_Activity]:
    """The yearly partner convention in Q1, otherwise a regional launch."""
    start = _next_weekday(quarter.start + timedelta(days=rng.randint(15, 60)))
    end = start + timedelta(days=rng.randint(1, 2))
    if quarter.number == 1:
        guests = [
            (p, Decimal(rng.randrange(3000, 6001, 500)))
            for p in present
            if p.partner_type == MASTER or rng.random() < CONVENTION_SHARE
        ]
        name = f"{quarter.year}年度经销商大会"
        return [_Activity("", EVENT, name, start, end, tuple(guests))]
    if rng.random() >= LAUNCH_EVENT_SHARE:
        return []
    region = _region(rng)
    guests = [(p, None) for p in present if p.region == region]
    name = f"{region}区新品发布会"
    return [_Activity("", EVENT, name, start, end, tuple(guests))]


def _co_marketing(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> list[_Activity]:
    campaigns: list[_Activity] = []
    for _ in range(rng.randint(1, 3)):
        start = quarter.start + timedelta(days=rng.randint(0, 45))
        end = start + timedelta(days=rng.randint(30, 60))
        chosen = _by_size(rng, present, rng.randint(1, 3))
        taking_part = [(p, Decimal(rng.randint(10, 80) * 1000)) for p in chosen]
        name = rng.choice(CO_MARKETING_NAMES)
        campaigns.append(
            _Activity("", CO_MARKETING, name, start, end, tuple(taking_part))
        )
    return campaigns


def _resource_grants(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> list[_Activity]:
    """One partner per grant, a single day: no end date."""
    grants: list[_Activity] = []
    for partner in _by_size(rng, present, rng.randint(2, 5)):
        start = quarter.start + timedelta(days=rng.randint(0, 80))
        cost = Decimal(rng.randint(10, 100) * 500)
        name = rng.choice(RESOURCE_NAMES)
        grants.append(_Activity("", RESOURCE, name, start, None, ((partner, cost),)))
    return grants


def _by_size(
    rng: random.Random, present: Sequence[_Partner], count: int
) -> list[_Partner]:
    """Distinct partners drawn with odds growing with their order volume."""
    pool = list(present)
    chosen: list[_Partner] = []
    while pool and len(chosen) < count:
        weights = [p.orders_per_quarter for p in pool]
        pick = rng.choices(pool, weights=weights)[0]
        pool.remove(pick)
        chosen.append(pick)
    return sorted(chosen, key=lambda p: p.partner_id)


# Calendar helpers ----------------------------------------------------------


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _weekdays(start: date, end: date) -> list[date]:
    return [d for d in _days(start, end) if d.weekday() < 5]


def _next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _years_before(day: date, years: int) -> date:
    return date(day.year - years, day.month, 1)


def _month_end(day: date) -> date:
    next_month = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return next_month - timedelta(days=1)


def _quarters_since(day: date, quarter: Quarter) -> int:
    joined = Quarter.of(day)
    return (quarter.year - joined.year) * 4 + quarter.number - joined.number


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method; means here stay below a hundred)."""
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# Writers -------------------------------------------------------------------


def _write_partners(drop_dir: Path, partners: Sequence[_Partner]) -> Path:
    names = {p.partner_id: p.name for p in partners}
    header = [
        "经销商编码", "经销商名称", "上级经销商编码", "上级经销商名称",
        "区域", "城市", "类型", "合作开始日期", "状态",
    ]  # fmt: skip
    rows = [
        [
            p.partner_id,
            p.name,
            p.parent_id,
            names.get(p.parent_id or ""),
            p.region,
            p.city,
            p.partner_type,
            p.joined_date,
            p.status,
        ]  # fmt: skip
        for p in partners
    ]
    return _write_xlsx(drop_dir / PARTNERS_FILE, PARTNERS_SHEET, header, rows)


def _write_contacts(drop_dir: Path, contacts: Sequence[_Contact]) -> Path:
    header = ["经销商编码", "经销商名称", "联系人", "职务", "邮箱", "语言"]
    rows = [
        [c.partner.partner_id, c.partner.name, c.name, c.role, c.email, c.language]
        for c in contacts
    ]
    return _write_csv(drop_dir / CONTACTS_FILE, BOM_ENCODING, header, rows)


def _write_sales(
    drop_dir: Path, orders: Sequence[_Order], window: _Window
) -> list[Path]:
    """One file per quarter, each order's lines in date and document order."""
    header = [
        "单据日期", "单据类型", "单号", "行号", "经销商编码", "经销商名称",
        "产品编码", "产品名称", "产品类别", "数量", "单价", "折扣率",
        "折后金额", "原单号",
    ]  # fmt: skip
    by_quarter: dict[Quarter, list[list[str]]] = {q: [] for q in window.quarters}
    for order in sorted(orders, key=lambda o: (o.order_date, o.order_id)):
        rows = by_quarter[Quarter.of(order.order_date)]
        for number, (product, quantity) in enumerate(order.items, start=1):
            rows.append(_sales_row(order, number, product, quantity))
    return [
        _write_csv(
            drop_dir / SALES_FILE.format(quarter=quarter.label),
            SALES_ENCODING,
            header,
            rows,
        )
        for quarter, rows in by_quarter.items()
    ]


def _sales_row(
    order: _Order, number: int, product: Product, quantity: int
) -> list[str]:
    amount = net_amount(quantity, product.price, order.discount)
    return [
        f"{order.order_date:%Y/%m/%d}", order.kind, order.order_id, str(number),
        order.partner.partner_id, order.partner.name, product.product_id,
        product.name, product.category, str(quantity), f"{product.price:.2f}",
        f"{order.discount:.0%}", f"{amount:.2f}", order.original_order_id,
    ]  # fmt: skip


def _write_payments(drop_dir: Path, payments: Sequence[_Payment]) -> Path:
    """Finance's export: ISO dates, thousands separators in amounts."""
    header = [
        "回款单号",
        "到账日期",
        "经销商编码",
        "经销商名称",
        "回款金额",
        "币种",
        "收款方式",
    ]
    rows = [
        [
            p.payment_id,
            f"{p.paid_date:%Y-%m-%d}",
            p.partner.partner_id,
            p.partner.name,
            f"{p.amount:,.2f}",
            "CNY",
            p.method,
        ]  # fmt: skip
        for p in payments
    ]
    return _write_csv(drop_dir / PAYMENTS_FILE, PLAIN_ENCODING, header, rows)


def _write_feedback(drop_dir: Path, feedback: Sequence[_Feedback]) -> Path:
    header = [
        "工单编号", "经销商编码", "经销商名称", "类型", "主题",
        "创建时间", "首次响应时间", "解决时间", "满意度", "处理人",
    ]  # fmt: skip
    rows = [
        [
            f.feedback_id,
            f.partner.partner_id,
            f.partner.name,
            f.kind,
            f.subject,
            _timestamp(f.created_at),
            _timestamp(f.first_response_at),
            _timestamp(f.resolved_at),
            "" if f.satisfaction is None else f"{f.satisfaction:.1f}",
            f.handler,
        ]  # fmt: skip
        for f in feedback
    ]
    return _write_csv(drop_dir / FEEDBACK_FILE, BOM_ENCODING, header, rows)


def _write_activities(
    drop_dir: Path, activities: Sequence[_Activity], window: _Window
) -> Path:
    """Marketing's workbook: a title row above the header, one row per partner."""
    header = [
        "活动编号", "活动名称", "活动类型", "经销商编码", "经销商名称",
        "开始日期", "结束日期", "投入费用", "币种",
    ]  # fmt: skip
    rows = [
        [
            a.activity_id,
            a.name,
            a.kind,
            p.partner_id,
            p.name,
            a.start,
            a.end,
            cost,
            None if cost is None else "CNY",
        ]  # fmt: skip
        for a in activities
        for p, cost in a.participants
    ]
    labels = window.quarters[0].label, window.quarters[-1].label
    title = f"市场活动明细（{labels[0]}–{labels[1]}）"
    path = drop_dir / ACTIVITIES_FILE
    return _write_xlsx(path, ACTIVITIES_SHEET, header, rows, title=title)


def _timestamp(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _write_csv(
    path: Path, encoding: str, header: Sequence[str], rows: Sequence[Sequence[str]]
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    logger.info("wrote %s: %d rows (%s)", path, len(rows), encoding)
    return path


def _write_xlsx(
    path: Path,
    sheet: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
) -> Path:
    # in_memory: the on-disk mode stamps members with a local-time mtime.
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"created": WORKBOOK_CREATED})
    bold = workbook.add_format({"bold": True})
    formats = {
        date: workbook.add_format({"num_format": "yyyy-mm-dd"}),
        Decimal: workbook.add_format({"num_format": "#,##0.00"}),
    }
    worksheet = workbook.add_worksheet(sheet)
    header_row = 0 if title is None else 1
    if title is not None:
        worksheet.write_string(0, 0, title, bold)
    worksheet.write_row(header_row, 0, header, bold)
    worksheet.freeze_panes(header_row + 1, 0)
    for row_number, row in enumerate(rows, start=header_row + 1):
        for column, value in enumerate(row):
            _write_cell(worksheet, row_number, column, value, formats)
    workbook.close()
    logger.info("wrote %s: %d rows (sheet %s)", path, len(rows), sheet)
    return path


def _write_cell(
    worksheet: Any, row: int, column: int, value: Any, formats: dict[type, Any]
) -> None:
    if value is None:
        return
    if isinstance(value, date):
        worksheet.write_datetime(row, column, value, formats[date])
    elif isinstance(value, Decimal):
        # XLSX keeps numbers as doubles; two-decimal amounts round-trip exactly
        # through their shortest repr, which is what readers see.
        worksheet.write_number(row, column, float(value), formats[Decimal])
    else:
        worksheet.write_string(row, column, str(value))

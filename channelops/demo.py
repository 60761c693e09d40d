"""A deterministic demo channel network, written as customer-style exports.

``generate_demo`` writes what a Chinese brand's ERP and CRM would hand over
for its distributors and dealers: partner master data, contacts, quarterly
sales detail, collections (回款), partner feedback and marketing activities.
The files look like real exports (Chinese headers, UTF-8 with and without
BOM, GB18030, XLSX with date cells) and ``config/sources/demo.yml`` maps them
onto the input contract. All randomness comes from one seeded
``random.Random`` and nothing reads the clock, so the same arguments give
byte-identical files. For demos, local runs and smoke tests; it writes
nothing outside ``drop_dir``.
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
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from pathlib import Path
from typing import TypeAlias

import xlsxwriter

from channelops.settings import DEFAULT_CONFIG_DIR

logger = logging.getLogger(__name__)

# A value in an XLSX cell: text, a date cell, a number cell, or blank.
Cell: TypeAlias = str | date | Decimal | None

# The committed mapping that reads what generate_demo writes.
DEMO_MAPPING = DEFAULT_CONFIG_DIR / "sources" / "demo.yml"

PARTNERS_FILE = "经销商档案.xlsx"
PARTNERS_SHEET = "经销商"
CONTACTS_FILE = "经销商联系人.csv"
SALES_FILE = "销售明细_{quarter}.csv"
PAYMENTS_FILE = "回款记录.csv"
FEEDBACK_FILE = "客户反馈.csv"
ACTIVITIES_FILE = "市场活动.xlsx"
TARGETS_FILE = "销售目标.csv"
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
# Every amount in the demo is in Chinese yuan.
CURRENCY = "CNY"
FRIDAY = 4
QUARTER_PATTERN = re.compile(r"^(\d{4})Q([1-4])$")

# Enough partners for master distributors, sub-distributors, churners and
# inactive partners to all appear.
MIN_PARTNERS = 12
# The name parts give about 10,000 combinations; far below that, drawing
# unique names stays quick.
MAX_PARTNERS = 2000
NAME_ATTEMPTS = 10_000

# The values the exports use for types, statuses and kinds.
MASTER, DEALER, SUB = "总代理", "经销商", "分销商"
ACTIVE, INACTIVE = "正常", "停用"
SALE, RETURN = "销售", "退货"
CHINESE, ENGLISH = "中文", "英文"
# Document number prefixes: 销售, 退货, 回款, 反馈, 活动.
SALE_PREFIX, RETURN_PREFIX, PAYMENT_PREFIX = "XS", "TH", "HK"
FEEDBACK_PREFIX, ACTIVITY_PREFIX = "FK", "HD"
COMPLAINT, TICKET, INQUIRY, SURVEY = "投诉", "工单", "咨询", "满意度回访"
PROMOTION, EVENT, TRAINING = "促销", "会议", "培训"
CO_MARKETING, RESOURCE = "联合营销", "资源支持"

# Network shape. About a quarter of partners buy through a master
# distributor; a fifth of the top level are master distributors.
SUB_DISTRIBUTOR_SHARE = 0.25
MASTER_DISTRIBUTOR_SHARE = 0.2
# Dealers that join during the demo period, so onboarding shows up.
NEW_DEALER_SHARE = 0.05
INACTIVE_SHARE = 0.05
# Dealers that nearly stop ordering in the last quarters: churn warnings.
CHURNER_COUNT = 2
CHURN_QUARTERS = 2
CHURN_LEVEL = 0.08
# Cooperation starts up to this many years before the first quarter;
# master distributors signed in the first half of that history.
HISTORY_YEARS = 9
# A sub-distributor signs at least this long after its master distributor.
SUB_SIGNING_DELAY = timedelta(days=90)

# Orders per quarter: masters are large, dealers spread from tiny to large
# (log-normal around the median), sub-distributors small.
MASTER_ORDERS = (16.0, 30.0)
DEALER_MEDIAN_ORDERS = 6.0
DEALER_ORDERS_SPREAD = 0.7
DEALER_ORDERS = (1.0, 20.0)
SUB_ORDERS = (1.0, 4.0)
# Larger partners also buy more units per line.
QUANTITY_BASE = 0.4
ORDERS_PER_QUANTITY_STEP = 8
UNITS_PER_LINE = (4.0, 16.0)
# Price at which a partner's quantity scale means units per line; dearer
# products sell in fewer units.
REFERENCE_PRICE = 500.0
# Payment terms in days by partner type.
MASTER_TERMS_DAYS = 60
DEALER_TERMS_DAYS = (30, 45, 60)
SUB_TERMS_DAYS = 30

# New partners order less in their first two quarters.
RAMP_UP = (0.4, 0.7)
YEARLY_GROWTH = (-0.25, 0.35)
# Q1 has the Spring Festival lull, Q2 the 618 sales, Q4 Double Eleven.
SEASONALITY = {1: 0.85, 2: 1.0, 3: 0.9, 4: 1.25}
# Dealers push orders in the last two working weeks of a quarter.
QUARTER_END_WEEKDAYS = 10
QUARTER_END_SHARE = 0.3
# Fixed-date public holidays (New Year, Labour Day, National Day) when
# nothing is booked; the lunar-calendar ones are left out.
HOLIDAYS = {(1, 1), *((5, d) for d in range(1, 6)), *((10, d) for d in range(1, 8))}
LINES_PER_ORDER = (1, 2, 3, 4, 5)
LINES_PER_ORDER_WEIGHTS = (30, 25, 20, 15, 10)
DISCOUNTS = tuple(Decimal(d) for d in ("0", "0.03", "0.05", "0.08", "0.10", "0.12"))
DISCOUNT_WEIGHTS = (50, 15, 15, 10, 7, 3)
# Share of sale lines that come back; some fall after the last quarter
# and are dropped, which brings returns to about 3 % of lines.
RETURN_SHARE = 0.032
RETURN_LAG_DAYS = (5, 45)
# At most a third of a line's units come back.
RETURN_PART = 3

# Collections (回款): most partners pay nearly all they are invoiced; some
# collect only 70-85 %. Payment follows the month end after the terms,
# give or take, sometimes in two instalments, sometimes in round hundreds
# by acceptance bill.
LOW_COLLECTION_SHARE = 0.2
LOW_COLLECTION_RATE = (0.70, 0.85)
FULL_COLLECTION_RATE = (0.97, 1.0)
PAYMENT_JITTER_DAYS = (-10, 20)
SPLIT_PAYMENT_SHARE = 0.35
FIRST_INSTALMENT = Decimal("0.6")
SECOND_INSTALMENT_DAYS = (15, 30)
ROUND_AMOUNT_SHARE = 0.3
ROUND_AMOUNT = Decimal("100")
ACCEPTANCE_BILL_SHARE = 0.5

# Expected complaints, tickets and inquiries per partner per quarter.
FEEDBACK_RATE = {MASTER: 2.0, DEALER: 1.0, SUB: 0.5}
# Churners complain more from two quarters before they stop ordering.
CHURN_COMPLAINT_FACTOR = 2.5
CHURN_COMPLAINT_LEAD = 2
# Share of partners answering the survey each quarter, in its last month.
SURVEY_SHARE = 0.3
SURVEY_DAYS = 30
# Raised on a Friday evening or a weekend, when nobody is on duty.
OFF_HOURS_SHARE = 0.12
FRIDAY_EVENING_SHARE = 0.5
OFFICE_HOURS = (9, 18)
FRIDAY_EVENING_HOURS = (18, 24)
WEEKEND_HOURS = (8, 22)
# Support replies between 08:00 and 21:00; later ones wait for the morning.
REPLY_HOURS = (8, 21)
REPLY_DELAY_MINUTES = (0, 90)
# First responses: the target is a day; most make it, most of those within
# four hours, off-hours items often miss it, a few are never answered.
RESPONSE_TARGET = timedelta(hours=24)
NEVER_ANSWERED_SHARE = 0.03
LATE_SHARE = 0.12
LATE_SHARE_OFF_HOURS = 0.45
QUICK_REPLY_SHARE = 0.7
QUICK_MINUTES = (5, 4 * 60)
ON_TIME_MINUTES = (4 * 60 + 1, 20 * 60)
LATE_MINUTES = (24 * 60 + 1, 5 * 24 * 60)
# Inquiries close soon after the reply; complaints and tickets take longer.
INQUIRY_RESOLUTION_MINUTES = (5, 30)
RESOLUTION_HOURS = (1, 240)
# Scores on 1.0-5.0: low after a late reply or from a churner, good after
# a timely reply, mostly fair to good in surveys.
SCORED_SHARE = 0.4
LOW_SCORES = tuple(Decimal(s) for s in ("1.0", "1.5", "2.0", "2.5", "3.0", "3.5"))
GOOD_SCORES = tuple(Decimal(s) for s in ("3.5", "4.0", "4.5", "5.0"))
SURVEY_SCORES = tuple(Decimal(s) for s in ("2.5", "3.0", "3.5", "4.0", "4.5", "5.0"))

# Activities per quarter: one promotion most partners join, one training,
# the yearly convention in Q1 or maybe a regional launch, a few co-marketing
# campaigns and resource grants. Ranges are days after the quarter start,
# lengths in days, head counts and costs in CNY.
PROMOTION_SHARE = 0.55
PROMOTION_START = (0, 20)
PROMOTION_LENGTH = (14, 30)
TRAINING_START = (10, 70)
TRAINING_LENGTH = (0, 1)
TRAINING_SIZE = (5, 15)
TRAINING_COST_SHARE = 0.5
TRAINING_COSTS = (800, 1500, 2000)
EVENT_START = (15, 60)
EVENT_LENGTH = (1, 2)
CONVENTION_SHARE = 0.5
CONVENTION_COST = range(3000, 6001, 500)
LAUNCH_EVENT_SHARE = 0.5
CAMPAIGNS = (1, 3)
CAMPAIGN_START = (0, 45)
CAMPAIGN_LENGTH = (30, 60)
CAMPAIGN_PARTNERS = (1, 3)
CAMPAIGN_COST = range(10_000, 80_001, 1000)
GRANTS = (2, 5)
GRANT_START = (0, 80)
GRANT_COST = range(5000, 50_001, 500)

# End customers (stores, projects) each partner sells to: a sale goes to a
# new customer with this chance, otherwise to one it sold to before.
NEW_CUSTOMER_SHARE = 0.25
CUSTOMER_PREFIX = "C"
# Quarterly targets: last year's net sales in the same quarter (or the
# previous quarter, scaled by season) plus the planned growth, rounded up to
# ten thousand yuan. Partners without sales history get no target.
TARGET_GROWTH = Decimal("1.10")
TARGET_STEP = Decimal("10000")

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

# Column headers of each file; config/sources/demo.yml maps them.
PARTNERS_HEADER = (
    "经销商编码", "经销商名称", "上级经销商编码", "上级经销商名称",
    "区域", "城市", "类型", "合作开始日期", "状态",
)  # fmt: skip
CONTACTS_HEADER = ("经销商编码", "经销商名称", "联系人", "职务", "邮箱", "语言")
SALES_HEADER = (
    "单据日期", "单据类型", "单号", "行号", "经销商编码", "经销商名称",
    "产品编码", "产品名称", "产品类别", "数量", "单价", "折扣率",
    "折后金额", "原单号", "客户编码",
)  # fmt: skip
PAYMENTS_HEADER = (
    "回款单号", "到账日期", "经销商编码", "经销商名称", "回款金额", "币种", "收款方式",
)  # fmt: skip
FEEDBACK_HEADER = (
    "工单编号", "经销商编码", "经销商名称", "类型", "主题",
    "创建时间", "首次响应时间", "解决时间", "满意度", "处理人",
)  # fmt: skip
TARGETS_HEADER = ("经销商编码", "经销商名称", "考核期间", "目标金额", "币种")
ACTIVITIES_HEADER = (
    "活动编号", "活动名称", "活动类型", "经销商编码", "经销商名称",
    "开始日期", "结束日期", "投入费用", "币种",
)  # fmt: skip


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

    def previous(self) -> Quarter:
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)


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
    targets: int
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
            "targets": self.targets,
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
    customer_id: str = ""


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
    # Customers and targets draw from streams of their own, so adding them
    # left every other generated value as it was.
    sales = _with_customers(random.Random(f"{seed}:customers"), sales)
    orders = sales + _return_orders(rng, sales, window)
    payments = _payments(rng, partners, orders, window)
    feedback = _feedback(rng, partners, window)
    activities = _activities(rng, partners, window)
    targets = _targets(partners, orders, window)

    drop_dir.mkdir(parents=True, exist_ok=True)
    files = (
        _write_partners(drop_dir, partners),
        _write_contacts(drop_dir, contacts),
        *_write_sales(drop_dir, orders, window),
        _write_payments(drop_dir, payments),
        _write_feedback(drop_dir, feedback),
        _write_activities(drop_dir, activities, window),
        _write_targets(drop_dir, targets),
    )
    summary = DemoSummary(
        quarters=tuple(q.label for q in window.quarters),
        partners=len(partners),
        partner_contacts=len(contacts),
        order_lines=sum(len(o.items) for o in orders),
        payments=len(payments),
        feedback=len(feedback),
        activities=sum(len(a.participants) for a in activities),
        targets=len(targets),
        files=files,
    )
    logger.info(
        "demo seed %d: %d partners, %d order lines, %s..%s, %d files in %s",
        seed,
        summary.partners,
        summary.order_lines,
        first_quarter,
        last_quarter,
        len(files),
        drop_dir,
    )
    return summary


def net_amount(quantity: int, unit_price: Decimal, discount: Decimal) -> Decimal:
    """Line amount after discount, rounded half up to the cent."""
    gross = Decimal(quantity) * unit_price * (1 - discount)
    return gross.quantize(CENT, rounding=ROUND_HALF_UP)


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


# Partners and contacts ----------------------------------------------------


def _partners(rng: random.Random, count: int, window: _Window) -> list[_Partner]:
    """Masters, dealers and sub-distributors, numbered in order of joining."""
    sub_count = round(count * SUB_DISTRIBUTOR_SHARE)
    master_count = max(1, round((count - sub_count) * MASTER_DISTRIBUTOR_SHARE))
    dealer_count = count - sub_count - master_count
    new_count = max(1, round(dealer_count * NEW_DEALER_SHARE))
    names: set[str] = set()

    masters = [_master(rng, n, names, window) for n in range(master_count)]
    dealers = [
        _dealer(rng, names, window, is_new=n < new_count) for n in range(dealer_count)
    ]
    subs = [_sub(rng, rng.choice(masters), names, window) for _ in range(sub_count)]
    drafts = sorted(masters + dealers + subs, key=lambda p: p.joined_date)

    # Drafts point to their parent by name until ids are given out.
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
    """A master distributor; the first ones cover one region each."""
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
        orders_per_quarter=rng.uniform(*MASTER_ORDERS),
        payment_terms_days=MASTER_TERMS_DAYS,
    )


def _dealer(
    rng: random.Random, names: set[str], window: _Window, *, is_new: bool
) -> _Partner:
    if is_new:
        halfway = window.quarters[len(window.quarters) // 2].start
        joined = _day_between(rng, window.start, halfway)
    else:
        history_start = _years_before(window.start, HISTORY_YEARS)
        joined = _day_between(rng, history_start, window.start)
    size = rng.lognormvariate(math.log(DEALER_MEDIAN_ORDERS), DEALER_ORDERS_SPREAD)
    return _draft(
        rng,
        names,
        region=_region(rng),
        partner_type=DEALER,
        joined_date=joined,
        orders_per_quarter=min(DEALER_ORDERS[1], max(DEALER_ORDERS[0], size)),
        payment_terms_days=rng.choice(DEALER_TERMS_DAYS),
    )


def _sub(
    rng: random.Random, parent: _Partner, names: set[str], window: _Window
) -> _Partner:
    """A sub-distributor in its master distributor's region."""
    earliest = parent.joined_date + SUB_SIGNING_DELAY
    sub = _draft(
        rng,
        names,
        region=parent.region,
        partner_type=SUB,
        joined_date=_day_between(rng, earliest, window.start),
        orders_per_quarter=rng.uniform(*SUB_ORDERS),
        payment_terms_days=SUB_TERMS_DAYS,
    )
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
    is_low_payer = rng.random() < LOW_COLLECTION_SHARE
    rate = rng.uniform(*(LOW_COLLECTION_RATE if is_low_payer else FULL_COLLECTION_RATE))
    return _Partner(
        partner_id="",
        name=_unique_name(rng, city, names),
        parent_id=None,
        region=region,
        city=city,
        partner_type=partner_type,
        joined_date=joined_date,
        orders_per_quarter=orders_per_quarter,
        quantity_scale=QUANTITY_BASE + orders_per_quarter / ORDERS_PER_QUANTITY_STEP,
        yearly_growth=rng.uniform(*YEARLY_GROWTH),
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
    regions, weights = list(REGION_WEIGHTS), list(REGION_WEIGHTS.values())
    return rng.choices(regions, weights=weights)[0]


def _with_churners_and_inactive(
    rng: random.Random, partners: list[_Partner], window: _Window
) -> list[_Partner]:
    """Mark a few larger dealers as churning and a few dealers as inactive."""
    parents = {p.parent_id for p in partners}
    settled = [
        p
        for p in partners
        if p.partner_type == DEALER
        and p.joined_date < window.start
        and p.partner_id not in parents
    ]
    larger_half = sorted(settled, key=lambda p: -p.orders_per_quarter)
    churners = rng.sample(larger_half[: len(larger_half) // 2], CHURNER_COUNT)
    others = [p for p in settled if p not in churners]
    inactive = rng.sample(others, max(1, round(len(partners) * INACTIVE_SHARE)))

    quarter_count = len(window.quarters)
    churn_from = max(1, quarter_count - CHURN_QUARTERS)
    last_stop = max(1, churn_from - 1)
    marked = {p.partner_id: replace(p, churn_from=churn_from) for p in churners}
    for partner in inactive:
        stop_from = rng.randint(1, last_stop)
        marked[partner.partner_id] = replace(partner, stop_from=stop_from)
    return [marked.get(p.partner_id, p) for p in partners]


def _contacts(rng: random.Random, partners: Sequence[_Partner]) -> list[_Contact]:
    """One or two contacts per partner: a manager, and maybe finance."""
    contacts: list[_Contact] = []
    for partner in partners:
        domain = f"{partner.partner_id.lower()}.{rng.choice(EMAIL_DOMAINS)}"
        count = 2 if rng.random() < SECOND_CONTACT_SHARE else 1
        roles = [rng.choice(CONTACT_ROLES), FINANCE_ROLE][:count]
        used: set[str] = set()
        for role in roles:
            name, email = _contact_name(rng, domain, used)
            language = ENGLISH if rng.random() < ENGLISH_SHARE else CHINESE
            contacts.append(_Contact(partner, name, role, email, language))
    return contacts


def _contact_name(rng: random.Random, domain: str, used: set[str]) -> tuple[str, str]:
    """A Chinese name and a surname.given address not yet used at domain."""
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
        business_days = _business_days(quarter.start, quarter.end)
        for partner in partners:
            days = [d for d in business_days if d >= partner.joined_date]
            if not days or not partner.orders_in(index):
                continue
            share_open = len(days) / len(business_days)
            mean = _expected_orders(partner, quarter, index) * share_open
            drafts.extend(_sale(rng, partner, days) for _ in range(_poisson(rng, mean)))
    return _numbered(drafts, SALE_PREFIX)


def _expected_orders(partner: _Partner, quarter: Quarter, index: int) -> float:
    """Orders a partner places in a quarter: size, season, trend, ramp, churn."""
    trend = math.pow(1 + partner.yearly_growth, index / 4)
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
    units = partner.quantity_scale * rng.uniform(*UNITS_PER_LINE) * price_factor
    return max(1, round(units))


def _with_customers(rng: random.Random, sales: Sequence[_Order]) -> list[_Order]:
    """Give each sale an end customer, new or one the partner served before."""
    served: dict[str, list[str]] = defaultdict(list)
    with_customers: list[_Order] = []
    for order in sales:
        customers = served[order.partner.partner_id]
        if not customers or rng.random() < NEW_CUSTOMER_SHARE:
            number = len(customers) + 1
            customers.append(
                f"{CUSTOMER_PREFIX}{order.partner.partner_id}-{number:03d}"
            )
            customer = customers[-1]
        else:
            customer = rng.choice(customers)
        with_customers.append(replace(order, customer_id=customer))
    return with_customers


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
            booked = _next_business_day(order.order_date + lag)
            returned = rng.randint(1, max(1, quantity // RETURN_PART))
            if booked <= window.end:
                drafts.append(
                    replace(
                        order,
                        kind=RETURN,
                        order_date=booked,
                        items=((product, returned),),
                        original_order_id=order.order_id,
                    )
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


# Targets -------------------------------------------------------------------


def _targets(
    partners: Sequence[_Partner], orders: Sequence[_Order], window: _Window
) -> list[tuple[_Partner, Quarter, Decimal]]:
    """One target per partner per quarter it has a sales history for."""
    net: dict[tuple[str, Quarter], Decimal] = defaultdict(Decimal)
    for order in orders:
        sign = 1 if order.kind == SALE else -1
        key = (order.partner.partner_id, Quarter.of(order.order_date))
        for product, quantity in order.items:
            net[key] += sign * net_amount(quantity, product.price, order.discount)
    targets = []
    for index, quarter in enumerate(window.quarters):
        for partner in partners:
            if not partner.orders_in(index):
                continue
            basis = _target_basis(net, partner.partner_id, quarter)
            if basis > 0:
                target = basis * TARGET_GROWTH / TARGET_STEP
                rounded = target.to_integral_value(rounding=ROUND_UP) * TARGET_STEP
                targets.append((partner, quarter, rounded.quantize(CENT)))
    return targets


def _target_basis(
    net: dict[tuple[str, Quarter], Decimal], partner_id: str, quarter: Quarter
) -> Decimal:
    last_year = Quarter(quarter.year - 1, quarter.number)
    if net.get((partner_id, last_year), Decimal(0)) > 0:
        return net[(partner_id, last_year)]
    previous = quarter.previous()
    season = Decimal(str(SEASONALITY[quarter.number] / SEASONALITY[previous.number]))
    return net.get((partner_id, previous), Decimal(0)) * season


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
    invoiced: dict[str, dict[date, Decimal]] = defaultdict(dict)
    for order in orders:
        month_end = _month_end(order.order_date)
        sign = 1 if order.kind == SALE else -1
        by_month = invoiced[order.partner.partner_id]
        for product, quantity in order.items:
            amount = sign * net_amount(quantity, product.price, order.discount)
            by_month[month_end] = by_month.get(month_end, Decimal(0)) + amount
    return invoiced


def _collections(
    rng: random.Random,
    partner: _Partner,
    month_end: date,
    invoiced: Decimal,
    window: _Window,
) -> list[_Payment]:
    """One month's collections; what would arrive after the export is left out."""
    due = (invoiced * partner.collection_rate).quantize(CENT, ROUND_HALF_UP)
    if due <= 0:
        return []
    parts = [due]
    if rng.random() < SPLIT_PAYMENT_SHARE:
        first = (due * FIRST_INSTALMENT).quantize(CENT, ROUND_HALF_UP)
        parts = [first, due - first]
    lag = partner.payment_terms_days + rng.randint(*PAYMENT_JITTER_DAYS)
    paid = _next_business_day(month_end + timedelta(days=max(1, lag)))
    by_bill = partner.pays_round_amounts and rng.random() < ACCEPTANCE_BILL_SHARE
    method = "银行承兑汇票" if by_bill else "银行转账"

    payments: list[_Payment] = []
    for part in parts:
        amount = _round_hundreds(part) if partner.pays_round_amounts else part
        if paid <= window.end and amount > 0:
            payments.append(_Payment("", partner, paid, amount, method))
        later = timedelta(days=rng.randint(*SECOND_INSTALMENT_DAYS))
        paid = _next_business_day(paid + later)
    return payments


def _round_hundreds(amount: Decimal) -> Decimal:
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
            churn_from = partner.churn_from
            if churn_from is not None and index >= churn_from - CHURN_COMPLAINT_LEAD:
                rate *= CHURN_COMPLAINT_FACTOR
            for _ in range(_poisson(rng, rate)):
                drafts.append(_ticket(rng, partner, open_days, window))
            if rng.random() < SURVEY_SHARE:
                drafts.append(_survey(rng, partner, open_days))

    per_day: dict[date, int] = defaultdict(int)
    feedback: list[_Feedback] = []
    for draft in sorted(drafts, key=lambda f: f.created_at):
        day = draft.created_at.date()
        per_day[day] += 1
        feedback_id = f"{FEEDBACK_PREFIX}{day:%Y%m%d}{per_day[day]:03d}"
        feedback.append(replace(draft, feedback_id=feedback_id))
    return feedback


def _ticket(
    rng: random.Random, partner: _Partner, days: Sequence[date], window: _Window
) -> _Feedback:
    """A complaint, ticket or inquiry, with replies as of the export."""
    kind = rng.choices(FEEDBACK_KINDS, weights=FEEDBACK_KIND_WEIGHTS)[0]
    is_off_hours = rng.random() < OFF_HOURS_SHARE
    created = _off_hours_time(rng, days) if is_off_hours else _office_time(rng, days)
    responded = _first_response(rng, created, is_off_hours)
    resolved = None if responded is None else _resolution(rng, kind, responded)
    responded, resolved = _by(responded, window), _by(resolved, window)
    score = None
    if resolved is not None and rng.random() < SCORED_SHARE:
        is_late = responded is not None and responded - created > RESPONSE_TARGET
        score = rng.choice(LOW_SCORES if is_late else GOOD_SCORES)
    return _Feedback(
        feedback_id="",
        partner=partner,
        kind=kind,
        subject=rng.choice(SUBJECTS[kind]),
        created_at=created,
        first_response_at=responded,
        resolved_at=resolved,
        satisfaction=score,
        handler=rng.choice(SUPPORT_STAFF),
    )


def _first_response(
    rng: random.Random, created: datetime, is_off_hours: bool
) -> datetime | None:
    """Most replies come within a day; some take days; a few never come."""
    draw = rng.random()
    if draw < NEVER_ANSWERED_SHARE:
        return None
    late_share = LATE_SHARE_OFF_HOURS if is_off_hours else LATE_SHARE
    if draw < NEVER_ANSWERED_SHARE + late_share:
        minutes = rng.randint(*LATE_MINUTES)
    elif rng.random() < QUICK_REPLY_SHARE:
        minutes = rng.randint(*QUICK_MINUTES)
    else:
        minutes = rng.randint(*ON_TIME_MINUTES)
    return _reply_hours(rng, created + timedelta(minutes=minutes))


def _resolution(rng: random.Random, kind: str, responded: datetime) -> datetime:
    if kind == INQUIRY:
        delay = timedelta(minutes=rng.randint(*INQUIRY_RESOLUTION_MINUTES))
    else:
        delay = timedelta(hours=rng.uniform(*RESOLUTION_HOURS))
    return _reply_hours(rng, responded + delay)


def _reply_hours(rng: random.Random, moment: datetime) -> datetime:
    """Move a reply made at night to the next morning."""
    opens, closes = REPLY_HOURS
    if opens <= moment.hour < closes:
        return moment.replace(microsecond=0)
    day = moment.date() if moment.hour < opens else moment.date() + timedelta(days=1)
    minutes = opens * 60 + rng.randint(*REPLY_DELAY_MINUTES)
    return _at(day, minutes, rng.randint(0, 59))


def _survey(rng: random.Random, partner: _Partner, days: Sequence[date]) -> _Feedback:
    """A quarterly satisfaction survey answer; churners score low."""
    scores = LOW_SCORES if partner.churn_from is not None else SURVEY_SCORES
    return _Feedback(
        feedback_id="",
        partner=partner,
        kind=SURVEY,
        subject=SURVEY_SUBJECT,
        created_at=_office_time(rng, days[-SURVEY_DAYS:]),
        first_response_at=None,
        resolved_at=None,
        satisfaction=rng.choice(scores),
        handler=rng.choice(SUPPORT_STAFF),
    )


def _office_time(rng: random.Random, days: Sequence[date]) -> datetime:
    business_days = [d for d in days if _is_business_day(d)] or list(days)
    opens, closes = OFFICE_HOURS
    minute = rng.randint(opens * 60, closes * 60 - 1)
    return _at(rng.choice(business_days), minute, rng.randint(0, 59))


def _off_hours_time(rng: random.Random, days: Sequence[date]) -> datetime:
    """A Friday evening or a weekend day, when nobody is on duty."""
    fridays = [d for d in days if d.weekday() == FRIDAY]
    weekends = [d for d in days if d.weekday() > FRIDAY]
    if fridays and (not weekends or rng.random() < FRIDAY_EVENING_SHARE):
        day, (opens, closes) = rng.choice(fridays), FRIDAY_EVENING_HOURS
    elif weekends:
        day, (opens, closes) = rng.choice(weekends), WEEKEND_HOURS
    else:
        return _office_time(rng, days)
    minute = rng.randint(opens * 60, closes * 60 - 1)
    return _at(day, minute, rng.randint(0, 59))


def _at(day: date, minute_of_day: int, second: int) -> datetime:
    hour, minute = divmod(minute_of_day, 60)
    return datetime.combine(day, time(hour, minute, second))


def _by(moment: datetime | None, window: _Window) -> datetime | None:
    """Drop what would happen after the export was taken."""
    return None if moment is None or moment > window.closes_at else moment


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
        taking_place = sorted((a for a in drafts if a.participants), key=_starts)
        for number, draft in enumerate(taking_place, start=1):
            activity_id = f"{ACTIVITY_PREFIX}{quarter.label}-{number:02d}"
            activities.append(replace(draft, activity_id=activity_id))
    return activities


def _starts(activity: _Activity) -> date:
    return activity.start


def _promotion(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> _Activity:
    """The quarter's main promotion; every master distributor takes part."""
    start = _days_into(rng, quarter, PROMOTION_START)
    end = start + timedelta(days=rng.randint(*PROMOTION_LENGTH))
    taking_part = tuple(
        (p, None)
        for p in present
        if p.partner_type == MASTER or rng.random() < PROMOTION_SHARE
    )
    name = PROMOTION_NAMES[quarter.number].format(year=quarter.year)
    return _Activity("", PROMOTION, name, start, end, taking_part)


def _training(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> _Activity:
    """A training; for half of them the brand pays travel per partner."""
    start = _next_business_day(_days_into(rng, quarter, TRAINING_START))
    end = start + timedelta(days=rng.randint(*TRAINING_LENGTH))
    size = min(len(present), rng.randint(*TRAINING_SIZE))
    chosen = sorted(rng.sample(list(present), size), key=lambda p: p.partner_id)
    has_cost = rng.random() < TRAINING_COST_SHARE
    taking_part = tuple(
        (p, Decimal(rng.choice(TRAINING_COSTS)) if has_cost else None) for p in chosen
    )
    name = rng.choice(TRAINING_NAMES)
    return _Activity("", TRAINING, name, start, end, taking_part)


def _events(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> list[_Activity]:
    """The yearly partner convention in Q1, otherwise maybe a regional launch."""
    start = _next_business_day(_days_into(rng, quarter, EVENT_START))
    end = start + timedelta(days=rng.randint(*EVENT_LENGTH))
    guests: list[tuple[_Partner, Decimal | None]]
    if quarter.number == 1:
        guests = [
            (p, Decimal(rng.choice(CONVENTION_COST)))
            for p in present
            if p.partner_type == MASTER or rng.random() < CONVENTION_SHARE
        ]
        name = f"{quarter.year}年度经销商大会"
    elif rng.random() < LAUNCH_EVENT_SHARE:
        region = _region(rng)
        guests = [(p, None) for p in present if p.region == region]
        name = f"{region}区新品发布会"
    else:
        return []
    return [_Activity("", EVENT, name, start, end, tuple(guests))]


def _co_marketing(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> list[_Activity]:
    """Campaigns run with one to three larger partners, each with a budget."""
    campaigns: list[_Activity] = []
    for _ in range(rng.randint(*CAMPAIGNS)):
        start = _days_into(rng, quarter, CAMPAIGN_START)
        end = start + timedelta(days=rng.randint(*CAMPAIGN_LENGTH))
        chosen = _by_size(rng, present, rng.randint(*CAMPAIGN_PARTNERS))
        taking_part = tuple((p, Decimal(rng.choice(CAMPAIGN_COST))) for p in chosen)
        name = rng.choice(CO_MARKETING_NAMES)
        campaigns.append(_Activity("", CO_MARKETING, name, start, end, taking_part))
    return campaigns


def _resource_grants(
    rng: random.Random, quarter: Quarter, present: Sequence[_Partner]
) -> list[_Activity]:
    """One partner per grant, given on one day, so no end date."""
    grants: list[_Activity] = []
    for partner in _by_size(rng, present, rng.randint(*GRANTS)):
        start = _days_into(rng, quarter, GRANT_START)
        cost = Decimal(rng.choice(GRANT_COST))
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


# Calendar ------------------------------------------------------------------


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _is_business_day(day: date) -> bool:
    return day.weekday() <= FRIDAY and (day.month, day.day) not in HOLIDAYS


def _business_days(start: date, end: date) -> list[date]:
    return [d for d in _days(start, end) if _is_business_day(d)]


def _next_business_day(day: date) -> date:
    while not _is_business_day(day):
        day += timedelta(days=1)
    return day


def _days_into(rng: random.Random, quarter: Quarter, offsets: tuple[int, int]) -> date:
    return quarter.start + timedelta(days=rng.randint(*offsets))


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
    """A Poisson draw by Knuth's method, fine for the small means used here."""
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


# Writers -------------------------------------------------------------------


def _write_partners(drop_dir: Path, partners: Sequence[_Partner]) -> Path:
    names = {p.partner_id: p.name for p in partners}
    rows = [
        (
            p.partner_id,
            p.name,
            p.parent_id,
            None if p.parent_id is None else names[p.parent_id],
            p.region,
            p.city,
            p.partner_type,
            p.joined_date,
            p.status,
        )
        for p in partners
    ]
    path = drop_dir / PARTNERS_FILE
    return _write_xlsx(path, PARTNERS_SHEET, PARTNERS_HEADER, rows)


def _write_contacts(drop_dir: Path, contacts: Sequence[_Contact]) -> Path:
    rows = [
        (c.partner.partner_id, c.partner.name, c.name, c.role, c.email, c.language)
        for c in contacts
    ]
    path = drop_dir / CONTACTS_FILE
    return _write_csv(path, BOM_ENCODING, CONTACTS_HEADER, rows)


def _write_sales(
    drop_dir: Path, orders: Sequence[_Order], window: _Window
) -> list[Path]:
    """One file per quarter, lines in date and document order."""
    by_quarter: dict[Quarter, list[tuple[str, ...]]] = {q: [] for q in window.quarters}
    for order in sorted(orders, key=lambda o: (o.order_date, o.order_id)):
        rows = by_quarter[Quarter.of(order.order_date)]
        for number, (product, quantity) in enumerate(order.items, start=1):
            rows.append(_sales_row(order, number, product, quantity))
    return [
        _write_csv(
            drop_dir / SALES_FILE.format(quarter=quarter.label),
            SALES_ENCODING,
            SALES_HEADER,
            rows,
        )
        for quarter, rows in by_quarter.items()
    ]


def _sales_row(
    order: _Order, number: int, product: Product, quantity: int
) -> tuple[str, ...]:
    """ERP style: slashed dates, percent discounts, plain two-decimal amounts."""
    amount = net_amount(quantity, product.price, order.discount)
    return (
        f"{order.order_date:%Y/%m/%d}",
        order.kind,
        order.order_id,
        str(number),
        order.partner.partner_id,
        order.partner.name,
        product.product_id,
        product.name,
        product.category,
        str(quantity),
        f"{product.price:.2f}",
        f"{order.discount:.0%}",
        f"{amount:.2f}",
        order.original_order_id,
        order.customer_id,
    )


def _write_payments(drop_dir: Path, payments: Sequence[_Payment]) -> Path:
    """Finance's export: ISO dates, amounts with thousands separators."""
    rows = [
        (
            p.payment_id,
            f"{p.paid_date:%Y-%m-%d}",
            p.partner.partner_id,
            p.partner.name,
            f"{p.amount:,.2f}",
            CURRENCY,
            p.method,
        )
        for p in payments
    ]
    path = drop_dir / PAYMENTS_FILE
    return _write_csv(path, PLAIN_ENCODING, PAYMENTS_HEADER, rows)


def _write_feedback(drop_dir: Path, feedback: Sequence[_Feedback]) -> Path:
    rows = [
        (
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
        )
        for f in feedback
    ]
    path = drop_dir / FEEDBACK_FILE
    return _write_csv(path, BOM_ENCODING, FEEDBACK_HEADER, rows)


def _write_activities(
    drop_dir: Path, activities: Sequence[_Activity], window: _Window
) -> Path:
    """Marketing's workbook: a title row above the header, one row per partner."""
    rows = [
        (
            a.activity_id,
            a.name,
            a.kind,
            p.partner_id,
            p.name,
            a.start,
            a.end,
            cost,
            None if cost is None else CURRENCY,
        )
        for a in activities
        for p, cost in a.participants
    ]
    first, last = window.quarters[0].label, window.quarters[-1].label
    title = f"市场活动明细（{first}–{last}）"
    path = drop_dir / ACTIVITIES_FILE
    return _write_xlsx(path, ACTIVITIES_SHEET, ACTIVITIES_HEADER, rows, title=title)


def _write_targets(
    drop_dir: Path, targets: Sequence[tuple[_Partner, Quarter, Decimal]]
) -> Path:
    """Sales planning's sheet, exported as CSV with a byte-order mark."""
    rows = [
        (p.partner_id, p.name, q.label, f"{amount:.2f}", CURRENCY)
        for p, q, amount in targets
    ]
    path = drop_dir / TARGETS_FILE
    return _write_csv(path, BOM_ENCODING, TARGETS_HEADER, rows)


def _timestamp(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def _write_csv(
    path: Path,
    encoding: str,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    logger.info("wrote %s: %d rows, %s", path, len(rows), encoding)
    return path


def _write_xlsx(
    path: Path,
    sheet: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
) -> Path:
    """One sheet: an optional title row, a bold header, then typed cells."""
    # In memory: the on-disk mode stamps zip members with a local-time mtime.
    workbook = xlsxwriter.Workbook(str(path), {"in_memory": True})
    workbook.set_properties({"created": WORKBOOK_CREATED})
    bold = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    money_format = workbook.add_format({"num_format": "#,##0.00"})
    worksheet = workbook.add_worksheet(sheet)
    header_row = 0 if title is None else 1
    if title is not None:
        worksheet.write_string(0, 0, title, bold)
    worksheet.write_row(header_row, 0, header, bold)
    worksheet.freeze_panes(header_row + 1, 0)
    for row_number, row in enumerate(rows, start=header_row + 1):
        for column, value in enumerate(row):
            if isinstance(value, date):
                worksheet.write_datetime(row_number, column, value, date_format)
            elif isinstance(value, Decimal):
                # XLSX keeps numbers as doubles; whole-yuan costs stay exact.
                number = float(value)
                worksheet.write_number(row_number, column, number, money_format)
            elif value is not None:
                worksheet.write_string(row_number, column, value)
    workbook.close()
    logger.info("wrote %s: %d rows, sheet %s", path, len(rows), sheet)
    return path

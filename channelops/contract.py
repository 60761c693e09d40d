"""The input contract: the datasets channelops reads and the fields of each.

A customer's export is mapped onto these fields by a source mapping file
(see ``channelops.mapping``); the pull stage parses and checks every row
against the field types declared here, and loads the rows into the
warehouse's ``raw`` schema under the same names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    TEXT = "text"
    EMAIL = "email"
    DATE = "date"
    # A wall-clock time in the source's time zone, stored as UTC.
    TIMESTAMP = "timestamp"
    # Exact decimals: money with 2 places, quantities and prices with more.
    MONEY = "money"
    QUANTITY = "quantity"
    PRICE = "price"
    SCORE = "score"
    CURRENCY = "currency"
    BOOLEAN = "boolean"


# Digits after the decimal point each numeric type keeps, and the SQL type.
SCALES: dict[FieldType, int] = {
    FieldType.MONEY: 2,
    FieldType.QUANTITY: 3,
    FieldType.PRICE: 4,
    FieldType.SCORE: 1,
}
SQL_TYPES: dict[FieldType, str] = {
    FieldType.TEXT: "varchar",
    FieldType.EMAIL: "varchar",
    FieldType.CURRENCY: "varchar",
    FieldType.DATE: "date",
    FieldType.TIMESTAMP: "timestamp",
    FieldType.MONEY: "decimal(18,2)",
    FieldType.QUANTITY: "decimal(18,3)",
    FieldType.PRICE: "decimal(18,4)",
    FieldType.SCORE: "decimal(4,1)",
    FieldType.BOOLEAN: "boolean",
}


@dataclass(frozen=True)
class ContractField:
    name: str
    type: FieldType
    required: bool
    description: str
    allowed: tuple[str, ...] = ()
    minimum: str | None = None
    maximum: str | None = None
    # A regular expression a text value must match in full.
    pattern: str | None = None
    pattern_hint: str | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Dataset:
    name: str
    description: str
    key: tuple[str, ...]
    fields: tuple[ContractField, ...]

    def field(self, name: str) -> ContractField:
        for field in self.fields:
            if field.name == name:
                return field
        known = ", ".join(f.name for f in self.fields)
        raise KeyError(f"dataset {self.name!r} has no field {name!r}; fields: {known}")

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _f(
    name: str,
    type_: FieldType,
    required: bool,
    description: str,
    *,
    allowed: tuple[str, ...] = (),
    minimum: str | None = None,
    maximum: str | None = None,
    pattern: str | None = None,
    pattern_hint: str | None = None,
) -> ContractField:
    return ContractField(
        name,
        type_,
        required,
        description,
        allowed,
        minimum,
        maximum,
        pattern,
        pattern_hint,
    )


T, EM, D, TS = FieldType.TEXT, FieldType.EMAIL, FieldType.DATE, FieldType.TIMESTAMP
M, Q, P, CUR = FieldType.MONEY, FieldType.QUANTITY, FieldType.PRICE, FieldType.CURRENCY

LINE_TYPES = ("sale", "return", "rebate_credit")
FEEDBACK_KINDS = ("complaint", "ticket", "inquiry", "satisfaction_survey")
ACTIVITY_TYPES = ("promotion", "event", "training", "co_marketing", "resource")
LANGUAGES = ("zh-CN", "en")
PARTNER_STATUSES = ("active", "inactive")
# Target periods: a quarter (2025Q3), a month (2025-07) or a year (2025).
TARGET_PERIOD_PATTERN = r"\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))?"

DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "partners",
            "One row per partner (distributor, dealer, reseller).",
            ("partner_id",),
            (
                _f("partner_id", T, True, "Partner code, unique per company."),
                _f("partner_name", T, True, "Registered name as shown to partners."),
                _f("parent_partner_id", T, False, "Upper-level distributor, if any."),
                _f("region", T, False, "Sales region the partner belongs to."),
                _f("partner_type", T, False, "Distributor, dealer, reseller, ..."),
                _f("joined_date", D, False, "Start of the cooperation."),
                _f(
                    "status",
                    T,
                    False,
                    "active (default) or inactive.",
                    allowed=PARTNER_STATUSES,
                ),
            ),
        ),
        Dataset(
            "partner_contacts",
            "One row per partner contact who receives mail.",
            ("partner_id", "email"),
            (
                _f("partner_id", T, True, "Partner the contact works for."),
                _f("email", EM, True, "Address statements are sent to."),
                _f("contact_name", T, False, "Name used in the greeting."),
                _f(
                    "language",
                    T,
                    False,
                    "zh-CN (default) or en.",
                    allowed=LANGUAGES,
                ),
            ),
        ),
        Dataset(
            "order_lines",
            "One row per order line; returns and credit notes are lines too.",
            ("order_line_id",),
            (
                _f("order_line_id", T, True, "Unique line id (order id + line no)."),
                _f("order_id", T, True, "Order or return document number."),
                _f("partner_id", T, True, "Partner that bought (or returned)."),
                _f("order_date", D, True, "Booking date; decides the period."),
                _f("product_id", T, False, "Product code."),
                _f("product_category", T, False, "Product category for scoping."),
                _f(
                    "customer_id",
                    T,
                    False,
                    "End customer the partner sold to; counts new customers.",
                ),
                _f(
                    "quantity",
                    Q,
                    True,
                    "Units, zero or more; a return has a positive quantity.",
                    minimum="0",
                ),
                _f(
                    "unit_price",
                    P,
                    False,
                    "Price per unit before discounts.",
                    minimum="0",
                ),
                _f(
                    "net_amount",
                    M,
                    True,
                    "Line amount after discounts, positive.",
                    minimum="0",
                ),
                _f("currency", CUR, True, "ISO 4217 code, e.g. CNY."),
                _f(
                    "line_type",
                    T,
                    True,
                    "sale, return or rebate_credit (never counts as sales).",
                    allowed=LINE_TYPES,
                ),
            ),
        ),
        Dataset(
            "payments",
            "One row per payment collected from a partner (回款).",
            ("payment_id",),
            (
                _f("payment_id", T, True, "Unique receipt id."),
                _f("partner_id", T, True, "Partner that paid."),
                _f("paid_date", D, True, "Date the money arrived."),
                _f("amount", M, True, "Amount collected, positive.", minimum="0"),
                _f("currency", CUR, True, "ISO 4217 code."),
            ),
        ),
        Dataset(
            "feedback",
            "One row per complaint, ticket or survey answer from a partner.",
            ("feedback_id",),
            (
                _f("feedback_id", T, True, "Unique ticket id."),
                _f("partner_id", T, True, "Partner that raised it."),
                _f("kind", T, True, "Kind of feedback.", allowed=FEEDBACK_KINDS),
                _f("created_at", TS, True, "When it was raised."),
                _f("first_response_at", TS, False, "First reply to the partner."),
                _f("resolved_at", TS, False, "When it was closed."),
                _f(
                    "satisfaction",
                    FieldType.SCORE,
                    False,
                    "Satisfaction score 1.0 to 5.0.",
                    minimum="1",
                    maximum="5",
                ),
                _f("subject", T, False, "Short description."),
            ),
        ),
        Dataset(
            "activities",
            "One row per partner taking part in a promotion, event, training, "
            "co-marketing campaign or resource grant.",
            ("activity_id", "partner_id"),
            (
                _f("activity_id", T, True, "Campaign or activity code."),
                _f("partner_id", T, True, "Partner taking part."),
                _f(
                    "activity_type",
                    T,
                    True,
                    "Kind of activity.",
                    allowed=ACTIVITY_TYPES,
                ),
                _f("activity_name", T, False, "Name shown to partners."),
                _f("start_date", D, True, "First day."),
                _f("end_date", D, False, "Last day (defaults to start_date)."),
                _f(
                    "cost",
                    M,
                    False,
                    "Resources invested for this partner.",
                    minimum="0",
                ),
                _f("currency", CUR, False, "ISO 4217 code of cost."),
            ),
        ),
        Dataset(
            "targets",
            "One row per partner per target period: the sales target agreed "
            "with the partner (net sales).",
            ("partner_id", "period"),
            (
                _f("partner_id", T, True, "Partner the target is for."),
                _f(
                    "period",
                    T,
                    True,
                    "Quarter (2025Q3), month (2025-07) or year (2025).",
                    pattern=TARGET_PERIOD_PATTERN,
                    pattern_hint="2025Q3, 2025-07 or 2025",
                ),
                _f(
                    "target_amount",
                    M,
                    True,
                    "Net sales target for the period.",
                    minimum="0",
                ),
                _f("currency", CUR, True, "ISO 4217 code."),
            ),
        ),
    )
}

# Loading order: partners first, since other datasets reference them.
LOAD_ORDER = (
    "partners",
    "partner_contacts",
    "order_lines",
    "payments",
    "feedback",
    "activities",
    "targets",
)


def contract_markdown() -> str:
    """The contract as the Markdown table customers read (docs/input-contract.md)."""
    out = [
        "# Input contract",
        "",
        "channelops reads these datasets. A source mapping file in",
        "`config/sources/` maps each export's columns onto these fields; see",
        "`config/sources/demo.yml` for a complete example and",
        "`docs/configuration.md` for the mapping options.",
        "",
        "Numbers are exact decimals: money keeps 2 places, quantities 3, prices",
        "4. A value with more places is quarantined unless the mapping sets",
        "`rounding: half_up` (or `half_even`) for that field. Times without a zone",
        "are read in the source's `timezone` and stored in UTC.",
    ]
    for dataset in DATASETS.values():
        out += [
            "",
            f"## {dataset.name}",
            "",
            dataset.description + f" Key: {', '.join(dataset.key)}.",
            "",
            "| field | type | required | meaning |",
            "|---|---|---|---|",
        ]
        for f in dataset.fields:
            meaning = f.description
            if f.allowed:
                meaning += " Values: " + ", ".join(f"`{a}`" for a in f.allowed) + "."
            out.append(
                f"| `{f.name}` | {f.sql_type} | {'yes' if f.required else 'no'} "
                f"| {meaning} |"
            )
    return "\n".join(out) + "\n"

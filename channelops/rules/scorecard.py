"""Scorecard rules: metrics, tiers with hysteresis, warnings, complaint SLA.

``scorecard.yml`` holds the metric weights, floors and caps, the policy for
metrics without data, the tiers (thresholds, resources, hysteresis), the
watchlist margin, the low-output rule, the churn-warning thresholds and the
campaign baseline. ``sla.yml`` holds the complaint first-response programs
and their working calendars. Both are validated here and written to the
warehouse's ``config`` schema, where the dbt models read them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from channelops.rules.files import ConfigTable, decimal_array, load_yaml_model

MetricName = Literal[
    "net_sales",
    "sales_growth_qoq",
    "sales_growth_yoy",
    "target_attainment",
    "collection_ratio",
    "days_sales_outstanding",
    "order_count",
    "days_since_last_order",
    "new_customer_count",
    "activity_count",
    "complaint_count",
    "first_response_hours",
    "sla_breach_rate",
    "satisfaction",
    "return_rate",
]
# Metrics that add up over time: a month is rated against a third of the
# floor and cap the rules give (which are per quarter).
VOLUME_METRICS = frozenset(
    {
        "net_sales",
        "order_count",
        "new_customer_count",
        "activity_count",
        "complaint_count",
    }
)
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]

# Hex digits of the tier rules' hash: short enough to read, long enough
# never to collide between two versions of one file.
RULES_VERSION_LENGTH = 12

# The days a working calendar covers unless it says otherwise: the demo and
# the AdventureWorks sample fall well inside.
CALENDAR_FIRST_DAY = date(2015, 1, 1)
CALENDAR_LAST_DAY = date(2035, 12, 31)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScorecardMetric(_Strict):
    metric: MetricName
    label_zh: str
    label_en: str
    weight: Annotated[Decimal, Field(gt=0, le=1)]
    higher_is_better: bool
    # Values at or beyond these score 0 and 100 points.
    floor: Decimal
    cap: Decimal

    @model_validator(mode="after")
    def _cap_differs_from_floor(self) -> ScorecardMetric:
        if self.cap == self.floor:
            raise ValueError("cap: must differ from floor")
        return self


class TierResource(_Strict):
    resource: Identifier
    label_zh: str
    label_en: str
    # How much of it per period (visits, seats, a fund in CNY); optional.
    quantity: Decimal | None = None


class ScorecardTier(_Strict):
    tier: Identifier
    label_zh: str
    label_en: str
    min_score: Annotated[Decimal, Field(ge=0, le=100)]
    resources: list[TierResource] = []


class Hysteresis(_Strict):
    # Consecutive periods a partner must qualify for a higher (lower) tier
    # before it moves there.
    promote_after: Annotated[int, Field(ge=1, le=12)] = 2
    demote_after: Annotated[int, Field(ge=1, le=12)] = 2


class Watchlist(_Strict):
    # Score points below the next tier, or above the own tier's floor.
    margin_points: Annotated[Decimal, Field(gt=0, le=50)] = Decimal(5)


class LowOutput(_Strict):
    # Bottom share of the tier by score, for this many periods in a row.
    bottom_share: Annotated[Decimal, Field(gt=0, lt=1)] = Decimal("0.2")
    periods: Annotated[int, Field(ge=1, le=12)] = 3


class WarningRules(_Strict):
    # Reasons needed for each risk level.
    medium_reasons: Annotated[int, Field(ge=1)] = 2
    high_reasons: Annotated[int, Field(ge=1)] = 3
    # Days since the last order beyond this multiple of the usual gap.
    order_gap_factor: Annotated[Decimal, Field(gt=1)] = Decimal(2)
    # Orders needed before a partner has a usual gap.
    min_orders_for_gap: Annotated[int, Field(ge=2)] = 3
    # Daily run-rate this share below the same period a year before.
    run_rate_drop: Annotated[Decimal, Field(gt=0, lt=1)] = Decimal("0.3")
    # Collection ratio this much below the previous period.
    collection_ratio_drop: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.15")
    # Average satisfaction this many points below the previous period.
    satisfaction_drop: Annotated[Decimal, Field(gt=0, le=4)] = Decimal("0.5")
    # Complaints answered late in the period.
    sla_breaches: Annotated[int, Field(ge=1)] = 1
    # Activities this share below the previous period, when that period
    # had at least min_previous_activities.
    engagement_drop: Annotated[Decimal, Field(gt=0, le=1)] = Decimal("0.5")
    min_previous_activities: Annotated[int, Field(ge=1)] = 2
    # Ops are e-mailed warnings of this level and above.
    alert_level: Literal["low", "medium", "high"] = "medium"

    @model_validator(mode="after")
    def _levels_rise(self) -> WarningRules:
        if self.high_reasons < self.medium_reasons:
            raise ValueError("high_reasons: must not be below medium_reasons")
        return self


class CampaignRules(_Strict):
    # Net sales per day in this many days before a campaign are its baseline.
    baseline_days: Annotated[int, Field(ge=7, le=365)] = 90
    # Sales this many days after a campaign ends still count for it.
    attribution_days: Annotated[int, Field(ge=0, le=180)] = 30


class ScorecardRules(_Strict):
    metrics: Annotated[list[ScorecardMetric], Field(min_length=1)]
    # A partner with fewer metrics than this gets "insufficient data".
    min_metrics: Annotated[int, Field(ge=1)]
    # reweight: the weights of the metrics with data are rescaled to 1;
    # zero: a metric without data scores 0 points at its full weight.
    missing_metrics: Literal["reweight", "zero"] = "reweight"
    tiers: Annotated[list[ScorecardTier], Field(min_length=1)]
    hysteresis: Hysteresis = Hysteresis()
    watchlist: Watchlist = Watchlist()
    low_output: LowOutput = LowOutput()
    warnings: WarningRules = WarningRules()
    campaigns: CampaignRules = CampaignRules()
    insufficient_tier: str = "insufficient_data"
    insufficient_label_zh: str = "数据不足"
    insufficient_label_en: str = "Insufficient data"
    # From sla.yml, not scorecard.yml.
    sla: SlaRules | None = None

    @model_validator(mode="after")
    def _weights_and_tiers_are_consistent(self) -> ScorecardRules:
        total = sum((m.weight for m in self.metrics), Decimal(0))
        if total != 1:
            raise ValueError(f"metrics: weights add up to {total}, not 1")
        names = [m.metric for m in self.metrics]
        if len(set(names)) != len(names):
            raise ValueError("metrics: a metric is listed twice")
        if self.min_metrics > len(self.metrics):
            raise ValueError("min_metrics: more than the metrics listed")
        if min(t.min_score for t in self.tiers) != 0:
            raise ValueError("tiers: one tier must start at min_score 0")
        scores = [t.min_score for t in self.tiers]
        if len(set(scores)) != len(scores):
            raise ValueError("tiers: two tiers share a min_score")
        tier_names = [t.tier for t in self.tiers] + [self.insufficient_tier]
        if len(set(tier_names)) != len(tier_names):
            raise ValueError("tiers: a tier name is used twice")
        return self

    def ordered_tiers(self) -> list[ScorecardTier]:
        """Tiers from the lowest (level 0) to the highest."""
        return sorted(self.tiers, key=lambda t: t.min_score)

    def tier_rules_version(self) -> str:
        """A short hash of every rule that decides a tier.

        The metrics with their weights, floors and caps, the missing-metric
        policy and minimum, the tiers' thresholds and the hysteresis: a
        recorded tier carries it, so a later rule change is visible.
        """
        rules = self.model_dump(
            mode="json",
            include={
                "metrics",
                "min_metrics",
                "missing_metrics",
                "hysteresis",
                "insufficient_tier",
            },
        )
        rules["tiers"] = [
            {"tier": t.tier, "min_score": str(t.min_score)}
            for t in self.ordered_tiers()
        ]
        canonical = json.dumps(rules, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[
            :RULES_VERSION_LENGTH
        ]


class WorkingHours(_Strict):
    start: time
    end: time

    @model_validator(mode="after")
    def _end_after_start(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError("end: must be after start")
        return self


class WorkingCalendar(_Strict):
    calendar: Identifier
    # The working hours are local time here; the warehouse keeps UTC.
    timezone: str = "Asia/Shanghai"
    working_days: Annotated[list[Weekday], Field(min_length=1)]
    working_hours: WorkingHours
    # Public holidays off work, and weekend days worked instead (调休).
    holidays: list[date] = []
    working_weekends: list[date] = []
    first_day: date = CALENDAR_FIRST_DAY
    last_day: date = CALENDAR_LAST_DAY

    @model_validator(mode="after")
    def _timezone_is_known(self) -> WorkingCalendar:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone: {self.timezone!r} is not an IANA time zone "
                "such as 'Asia/Shanghai'"
            ) from None
        return self

    def working_spans(self) -> list[tuple[date, datetime, datetime]]:
        """Each working day with its working hours' start and end in UTC."""
        zone = ZoneInfo(self.timezone)
        holidays = set(self.holidays)
        extra = set(self.working_weekends)
        spans = []
        day = self.first_day
        while day <= self.last_day:
            weekday = WEEKDAYS[day.weekday()]
            is_working = (weekday in self.working_days or day in extra) and (
                day not in holidays
            )
            if is_working:
                start = datetime.combine(day, self.working_hours.start, zone)
                end = datetime.combine(day, self.working_hours.end, zone)
                spans.append((day, _utc(start), _utc(end)))
            day += timedelta(days=1)
        return spans


class SlaProgram(_Strict):
    program: Identifier
    label_zh: str
    label_en: str
    # calendar: every hour counts; business: only the calendar's working hours.
    clock: Literal["calendar", "business"]
    calendar: str | None = None
    response_hours: Annotated[Decimal, Field(gt=0, le=720)] = Decimal(24)
    # Partner types (as the partner master data spells them) under this
    # program; the one program without any is the default.
    partner_types: list[str] = []

    @model_validator(mode="after")
    def _business_clock_has_a_calendar(self) -> SlaProgram:
        if self.clock == "business" and self.calendar is None:
            raise ValueError("calendar: a business-hours program names its calendar")
        return self


class SlaRules(_Strict):
    calendars: list[WorkingCalendar] = []
    programs: Annotated[list[SlaProgram], Field(min_length=1)]

    @model_validator(mode="after")
    def _programs_are_consistent(self) -> SlaRules:
        calendars = {c.calendar for c in self.calendars}
        for program in self.programs:
            if program.calendar is not None and program.calendar not in calendars:
                raise ValueError(
                    f"programs: {program.program!r} names calendar "
                    f"{program.calendar!r}, which calendars does not define"
                )
        defaults = [p.program for p in self.programs if not p.partner_types]
        if len(defaults) != 1:
            raise ValueError(
                "programs: exactly one program must leave partner_types empty "
                f"(the default); found {defaults!r}"
            )
        types = [t for p in self.programs for t in p.partner_types]
        if len(set(types)) != len(types):
            raise ValueError("programs: a partner type is under two programs")
        return self


ScorecardRules.model_rebuild()


def _utc(moment: datetime) -> datetime:
    """A zoned time as the naive UTC time the warehouse stores."""
    return moment.astimezone(UTC).replace(tzinfo=None)


# Without sla.yml every complaint has 24 calendar hours for a first reply.
DEFAULT_SLA = SlaRules(
    programs=[
        SlaProgram(
            program="standard",
            label_zh="24小时响应",
            label_en="First reply within 24 hours",
            clock="calendar",
        )
    ]
)


def load_scorecard(config_dir: Path) -> ScorecardRules:
    """``scorecard.yml`` and, when present, ``sla.yml`` from ``config_dir``."""
    rules = load_yaml_model(config_dir / "scorecard.yml", ScorecardRules)
    sla_path = config_dir / "sla.yml"
    sla = load_yaml_model(sla_path, SlaRules) if sla_path.exists() else DEFAULT_SLA
    return rules.model_copy(update={"sla": sla})


METRICS_DDL = """
create table config.scorecard_metrics (
    metric varchar not null,
    label_zh varchar not null,
    label_en varchar not null,
    weight decimal(9,6) not null,
    is_higher_better boolean not null,
    floor_value decimal(18,6) not null,
    cap_value decimal(18,6) not null,
    is_volume boolean not null
)
"""
TIERS_DDL = """
create table config.scorecard_tiers (
    tier varchar not null,
    label_zh varchar not null,
    label_en varchar not null,
    min_score decimal(7,2),
    tier_level integer
)
"""
SETTINGS_DDL = """
create table config.scorecard_settings (
    min_metrics integer not null,
    insufficient_tier varchar not null,
    missing_metrics varchar not null,
    promote_after integer not null,
    demote_after integer not null,
    watch_margin_points decimal(7,2) not null,
    low_output_share decimal(5,4) not null,
    low_output_periods integer not null,
    campaign_baseline_days integer not null,
    campaign_attribution_days integer not null,
    tier_rules_version varchar not null
)
"""
RESOURCES_DDL = """
create table config.scorecard_tier_resources (
    tier varchar not null,
    resource varchar not null,
    label_zh varchar not null,
    label_en varchar not null,
    quantity decimal(18,2)
)
"""
WARNINGS_DDL = """
create table config.warning_settings (
    medium_reasons integer not null,
    high_reasons integer not null,
    order_gap_factor decimal(9,4) not null,
    min_orders_for_gap integer not null,
    run_rate_drop decimal(9,4) not null,
    collection_ratio_drop decimal(9,4) not null,
    satisfaction_drop decimal(9,4) not null,
    sla_breaches integer not null,
    engagement_drop decimal(9,4) not null,
    min_previous_activities integer not null,
    alert_level varchar not null
)
"""
SLA_PROGRAMS_DDL = """
create table config.sla_programs (
    sla_program varchar not null,
    label_zh varchar not null,
    label_en varchar not null,
    clock varchar not null,
    calendar varchar,
    response_hours decimal(9,2) not null,
    partner_type varchar
)
"""
SLA_HOURS_DDL = """
create table config.sla_working_hours (
    calendar varchar not null,
    work_date date not null,
    work_start_at timestamp not null,
    work_end_at timestamp not null
)
"""


def scorecard_tables(scorecard: ScorecardRules) -> dict[str, ConfigTable]:
    """The scorecard rules as the config tables the dbt models read."""
    return {
        "config.scorecard_metrics": (METRICS_DDL, _metrics_table(scorecard)),
        "config.scorecard_tiers": (TIERS_DDL, _tiers_table(scorecard)),
        "config.scorecard_settings": (SETTINGS_DDL, _settings_table(scorecard)),
        "config.scorecard_tier_resources": (
            RESOURCES_DDL,
            _resources_table(scorecard),
        ),
        "config.warning_settings": (WARNINGS_DDL, _warnings_table(scorecard)),
        "config.sla_programs": (SLA_PROGRAMS_DDL, _programs_table(scorecard)),
        "config.sla_working_hours": (SLA_HOURS_DDL, _hours_table(scorecard)),
    }


def _metrics_table(scorecard: ScorecardRules) -> pa.Table:
    metrics = scorecard.metrics
    return pa.table(
        {
            "metric": [m.metric for m in metrics],
            "label_zh": [m.label_zh for m in metrics],
            "label_en": [m.label_en for m in metrics],
            "weight": pa.array([m.weight for m in metrics], pa.decimal128(9, 6)),
            "is_higher_better": [m.higher_is_better for m in metrics],
            "floor_value": decimal_array(6, [m.floor for m in metrics]),
            "cap_value": decimal_array(6, [m.cap for m in metrics]),
            "is_volume": [m.metric in VOLUME_METRICS for m in metrics],
        }
    )


def _tiers_table(scorecard: ScorecardRules) -> pa.Table:
    tiers = scorecard.ordered_tiers()
    return pa.table(
        {
            "tier": [t.tier for t in tiers] + [scorecard.insufficient_tier],
            "label_zh": [t.label_zh for t in tiers] + [scorecard.insufficient_label_zh],
            "label_en": [t.label_en for t in tiers] + [scorecard.insufficient_label_en],
            # The insufficient-data tier has no minimum score and no level.
            "min_score": pa.array(
                [t.min_score for t in tiers] + [None], pa.decimal128(7, 2)
            ),
            "tier_level": pa.array(list(range(len(tiers))) + [None], pa.int32()),
        }
    )


def _settings_table(scorecard: ScorecardRules) -> pa.Table:
    return pa.table(
        {
            "min_metrics": pa.array([scorecard.min_metrics], pa.int32()),
            "insufficient_tier": [scorecard.insufficient_tier],
            "missing_metrics": [scorecard.missing_metrics],
            "promote_after": pa.array([scorecard.hysteresis.promote_after], pa.int32()),
            "demote_after": pa.array([scorecard.hysteresis.demote_after], pa.int32()),
            "watch_margin_points": pa.array(
                [scorecard.watchlist.margin_points], pa.decimal128(7, 2)
            ),
            "low_output_share": pa.array(
                [scorecard.low_output.bottom_share], pa.decimal128(5, 4)
            ),
            "low_output_periods": pa.array([scorecard.low_output.periods], pa.int32()),
            "campaign_baseline_days": pa.array(
                [scorecard.campaigns.baseline_days], pa.int32()
            ),
            "campaign_attribution_days": pa.array(
                [scorecard.campaigns.attribution_days], pa.int32()
            ),
            "tier_rules_version": [scorecard.tier_rules_version()],
        }
    )


def _resources_table(scorecard: ScorecardRules) -> pa.Table:
    rows = [(t.tier, r) for t in scorecard.tiers for r in t.resources]
    return pa.table(
        {
            "tier": pa.array([tier for tier, _ in rows], pa.string()),
            "resource": pa.array([r.resource for _, r in rows], pa.string()),
            "label_zh": pa.array([r.label_zh for _, r in rows], pa.string()),
            "label_en": pa.array([r.label_en for _, r in rows], pa.string()),
            "quantity": pa.array([r.quantity for _, r in rows], pa.decimal128(18, 2)),
        }
    )


def _warnings_table(scorecard: ScorecardRules) -> pa.Table:
    rules = scorecard.warnings
    ratio = pa.decimal128(9, 4)
    return pa.table(
        {
            "medium_reasons": pa.array([rules.medium_reasons], pa.int32()),
            "high_reasons": pa.array([rules.high_reasons], pa.int32()),
            "order_gap_factor": pa.array([rules.order_gap_factor], ratio),
            "min_orders_for_gap": pa.array([rules.min_orders_for_gap], pa.int32()),
            "run_rate_drop": pa.array([rules.run_rate_drop], ratio),
            "collection_ratio_drop": pa.array([rules.collection_ratio_drop], ratio),
            "satisfaction_drop": pa.array([rules.satisfaction_drop], ratio),
            "sla_breaches": pa.array([rules.sla_breaches], pa.int32()),
            "engagement_drop": pa.array([rules.engagement_drop], ratio),
            "min_previous_activities": pa.array(
                [rules.min_previous_activities], pa.int32()
            ),
            "alert_level": [rules.alert_level],
        }
    )


def _programs_table(scorecard: ScorecardRules) -> pa.Table:
    sla = scorecard.sla or DEFAULT_SLA
    # One row per partner type; the default program's row has none.
    no_type: list[str | None] = [None]
    rows = [
        (p, partner_type)
        for p in sla.programs
        for partner_type in (p.partner_types or no_type)
    ]
    return pa.table(
        {
            "sla_program": [p.program for p, _ in rows],
            "label_zh": [p.label_zh for p, _ in rows],
            "label_en": [p.label_en for p, _ in rows],
            "clock": [p.clock for p, _ in rows],
            "calendar": pa.array([p.calendar for p, _ in rows], pa.string()),
            "response_hours": pa.array(
                [p.response_hours for p, _ in rows], pa.decimal128(9, 2)
            ),
            "partner_type": pa.array([t for _, t in rows], pa.string()),
        }
    )


def _hours_table(scorecard: ScorecardRules) -> pa.Table:
    sla = scorecard.sla or DEFAULT_SLA
    rows = [
        (calendar.calendar, *span)
        for calendar in sla.calendars
        for span in calendar.working_spans()
    ]
    return pa.table(
        {
            "calendar": pa.array([r[0] for r in rows], pa.string()),
            "work_date": pa.array([r[1] for r in rows], pa.date32()),
            "work_start_at": pa.array([r[2] for r in rows], pa.timestamp("us")),
            "work_end_at": pa.array([r[3] for r in rows], pa.timestamp("us")),
        }
    )

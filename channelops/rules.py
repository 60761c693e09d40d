"""Business rules finance and channel managers edit: rebate programs and scorecards.

Programs live in ``<config_dir>/programs/*.yml`` (one file per program),
scorecard weights and tier thresholds in ``<config_dir>/scorecard.yml``.
Each file is validated before any run; a bad value is rejected with the
file, the key and the reason. Valid rules are written to the warehouse's
``config`` schema, where the dbt models read them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from channelops.errors import ConfigError, describe_validation_error
from channelops.warehouse import Warehouse

Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]


class Tier(BaseModel):
    """One band: ``from`` inclusive, ``to`` exclusive (open when omitted)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    lower: Amount = Field(alias="from")
    upper: Amount | None = Field(default=None, alias="to")
    rate: Rate


class RebateProgram(BaseModel):
    """A tiered rebate on a partner's net sales per settlement period."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    program_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str
    version: Annotated[int, Field(ge=1)]
    effective_from: date
    effective_to: date | None = None
    basis: Literal["net_sales"] = "net_sales"
    calculation: Literal["retroactive", "incremental"]
    settlement_period: Literal["quarter"] = "quarter"
    tiers: Annotated[list[Tier], Field(min_length=1)]

    @model_validator(mode="after")
    def _tiers_cover_every_amount_once(self) -> RebateProgram:
        if self.tiers[0].lower != 0:
            raise ValueError(
                f"tiers.0.from: the first tier must start at 0, "
                f"got {self.tiers[0].lower}"
            )
        for index, (tier, following) in enumerate(
            zip(self.tiers, self.tiers[1:], strict=False)
        ):
            if tier.upper is None:
                raise ValueError(
                    f"tiers.{index}.to: only the last tier may be open-ended"
                )
            if tier.upper <= tier.lower:
                raise ValueError(
                    f"tiers.{index}: 'to' {tier.upper} is not above 'from' {tier.lower}"
                )
            if following.lower != tier.upper:
                kind = "gap" if following.lower > tier.upper else "overlap"
                raise ValueError(
                    f"tiers.{index + 1}.from: {kind} between {tier.upper} and "
                    f"{following.lower}; each tier must start where the one "
                    "before it ends"
                )
        if self.tiers[-1].upper is not None:
            raise ValueError(
                f"tiers.{len(self.tiers) - 1}.to: the top tier must be open "
                "(leave out 'to') so that every amount has a rate"
            )
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to: before effective_from")
        return self


class ScorecardMetric(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: Literal[
        "net_sales",
        "sales_growth_qoq",
        "collection_ratio",
        "return_rate",
        "sla_breach_rate",
        "activity_count",
    ]
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


class ScorecardTier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tier: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    label_zh: str
    label_en: str
    min_score: Annotated[Decimal, Field(ge=0, le=100)]


class ScorecardRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metrics: Annotated[list[ScorecardMetric], Field(min_length=1)]
    # A partner with fewer metrics than this gets "insufficient data".
    min_metrics: Annotated[int, Field(ge=1)]
    tiers: Annotated[list[ScorecardTier], Field(min_length=1)]
    insufficient_tier: str = "insufficient_data"
    insufficient_label_zh: str = "数据不足"
    insufficient_label_en: str = "Insufficient data"

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
        return self


Model = TypeVar("Model", bound=BaseModel)


def _load_yaml(path: Path, model: type[Model]) -> Model:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; see docs/configuration.md") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = describe_validation_error(exc)
        raise ConfigError(f"{path}: {problems}") from exc


def load_programs(config_dir: Path) -> list[RebateProgram]:
    """Every program file, validated; program ids must be unique."""
    paths = sorted((config_dir / "programs").glob("*.yml"))
    if not paths:
        raise ConfigError(
            f"no rebate program files in {config_dir / 'programs'}; add one "
            "(see docs/configuration.md)"
        )
    programs = [_load_yaml(p, RebateProgram) for p in paths]
    ids = [p.program_id for p in programs]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(f"{config_dir / 'programs'}: program_id used twice: {twice}")
    return programs


def load_scorecard(config_dir: Path) -> ScorecardRules:
    return _load_yaml(config_dir / "scorecard.yml", ScorecardRules)


RULES_DDL = (
    """
    create table config.rebate_programs (
        program_id varchar not null,
        program_name varchar not null,
        program_version integer not null,
        effective_from date not null,
        effective_to date,
        basis varchar not null,
        calculation varchar not null
    )
    """,
    """
    create table config.rebate_tiers (
        program_id varchar not null,
        tier_no integer not null,
        tier_name varchar not null,
        lower_bound decimal(18,2) not null,
        upper_bound decimal(18,2),
        rate decimal(9,6) not null
    )
    """,
    """
    create table config.scorecard_metrics (
        metric varchar not null,
        label_zh varchar not null,
        label_en varchar not null,
        weight decimal(9,6) not null,
        is_higher_better boolean not null,
        floor_value decimal(18,6) not null,
        cap_value decimal(18,6) not null
    )
    """,
    """
    create table config.scorecard_tiers (
        tier varchar not null,
        label_zh varchar not null,
        label_en varchar not null,
        min_score decimal(7,2)
    )
    """,
    """
    create table config.scorecard_settings (
        min_metrics integer not null,
        insufficient_tier varchar not null
    )
    """,
)


def _dec(scale: int, values: list[Decimal | None]) -> pa.Array:
    return pa.array(values, type=pa.decimal128(18, scale))


def write_rules(
    warehouse: Warehouse, programs: list[RebateProgram], scorecard: ScorecardRules
) -> None:
    """Replace the warehouse's config tables with the validated rules.

    The tables are derived from the files alone, so they are dropped and
    created afresh: a column added to the rules never meets an old table.
    """
    tiers = [(p, n, t) for p in programs for n, t in enumerate(p.tiers, start=1)]
    tables = {
        "config.rebate_programs": pa.table(
            {
                "program_id": [p.program_id for p in programs],
                "program_name": [p.name for p in programs],
                "program_version": pa.array([p.version for p in programs], pa.int32()),
                "effective_from": pa.array(
                    [p.effective_from for p in programs], pa.date32()
                ),
                "effective_to": pa.array(
                    [p.effective_to for p in programs], pa.date32()
                ),
                "basis": [p.basis for p in programs],
                "calculation": [p.calculation for p in programs],
            }
        ),
        "config.rebate_tiers": pa.table(
            {
                "program_id": [p.program_id for p, _, _ in tiers],
                "tier_no": pa.array([n for _, n, _ in tiers], pa.int32()),
                "tier_name": [t.name for _, _, t in tiers],
                "lower_bound": _dec(2, [t.lower for _, _, t in tiers]),
                "upper_bound": _dec(2, [t.upper for _, _, t in tiers]),
                "rate": pa.array([t.rate for _, _, t in tiers], pa.decimal128(9, 6)),
            }
        ),
        "config.scorecard_metrics": pa.table(
            {
                "metric": [m.metric for m in scorecard.metrics],
                "label_zh": [m.label_zh for m in scorecard.metrics],
                "label_en": [m.label_en for m in scorecard.metrics],
                "weight": pa.array(
                    [m.weight for m in scorecard.metrics], pa.decimal128(9, 6)
                ),
                "is_higher_better": [m.higher_is_better for m in scorecard.metrics],
                "floor_value": _dec(6, [m.floor for m in scorecard.metrics]),
                "cap_value": _dec(6, [m.cap for m in scorecard.metrics]),
            }
        ),
        "config.scorecard_tiers": pa.table(
            {
                "tier": [t.tier for t in scorecard.tiers]
                + [scorecard.insufficient_tier],
                "label_zh": [t.label_zh for t in scorecard.tiers]
                + [scorecard.insufficient_label_zh],
                "label_en": [t.label_en for t in scorecard.tiers]
                + [scorecard.insufficient_label_en],
                "min_score": pa.array(
                    [t.min_score for t in scorecard.tiers] + [None],
                    pa.decimal128(7, 2),
                ),
            }
        ),
        "config.scorecard_settings": pa.table(
            {
                "min_metrics": pa.array([scorecard.min_metrics], pa.int32()),
                "insufficient_tier": [scorecard.insufficient_tier],
            }
        ),
    }
    with warehouse.transaction():
        for table in tables:
            warehouse.execute(f"drop table if exists {table}")
        for statement in RULES_DDL:
            warehouse.execute(statement)
        for table, batch in tables.items():
            warehouse.insert_arrow(table, batch)

"""Rebate programs: one validated YAML file per program in ``programs/``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from channelops.errors import ConfigError
from channelops.rules.files import ConfigTable, decimal_array, load_yaml_model

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


def load_programs(config_dir: Path) -> list[RebateProgram]:
    """Every program file, validated; program ids must be unique."""
    paths = sorted((config_dir / "programs").glob("*.yml"))
    if not paths:
        raise ConfigError(
            f"no rebate program files in {config_dir / 'programs'}; add one "
            "(see docs/configuration.md)"
        )
    programs = [load_yaml_model(p, RebateProgram) for p in paths]
    ids = [p.program_id for p in programs]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(f"{config_dir / 'programs'}: program_id used twice: {twice}")
    return programs


PROGRAMS_DDL = """
create table config.rebate_programs (
    program_id varchar not null,
    program_name varchar not null,
    program_version integer not null,
    effective_from date not null,
    effective_to date,
    basis varchar not null,
    calculation varchar not null
)
"""
TIERS_DDL = """
create table config.rebate_tiers (
    program_id varchar not null,
    tier_no integer not null,
    tier_name varchar not null,
    lower_bound decimal(18,2) not null,
    upper_bound decimal(18,2),
    rate decimal(9,6) not null
)
"""


def program_tables(programs: list[RebateProgram]) -> dict[str, ConfigTable]:
    """The programs as the config tables the dbt models read."""
    tiers = [(p, n, t) for p in programs for n, t in enumerate(p.tiers, start=1)]
    return {
        "config.rebate_programs": (
            PROGRAMS_DDL,
            pa.table(
                {
                    "program_id": [p.program_id for p in programs],
                    "program_name": [p.name for p in programs],
                    "program_version": pa.array(
                        [p.version for p in programs], pa.int32()
                    ),
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
        ),
        "config.rebate_tiers": (
            TIERS_DDL,
            pa.table(
                {
                    "program_id": [p.program_id for p, _, _ in tiers],
                    "tier_no": pa.array([n for _, n, _ in tiers], pa.int32()),
                    "tier_name": [t.name for _, _, t in tiers],
                    "lower_bound": decimal_array(2, [t.lower for _, _, t in tiers]),
                    "upper_bound": decimal_array(2, [t.upper for _, _, t in tiers]),
                    "rate": pa.array(
                        [t.rate for _, _, t in tiers], pa.decimal128(9, 6)
                    ),
                }
            ),
        ),
    }

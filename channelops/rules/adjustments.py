"""Manual rebate adjustments: ``adjustments.yml`` beside the program files.

Finance books a correction (+ or -) for one partner and quarter with a
reason and an approval status; only ``approved`` adjustments reach a
statement. The file is optional: without it there are no adjustments.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from channelops.errors import ConfigError
from channelops.rules.files import ConfigTable, decimal_array, load_yaml_model

ADJUSTMENTS_FILE = "adjustments.yml"
_QUARTER = re.compile(r"^\d{4}Q[1-4]$")


class Adjustment(BaseModel):
    """One manual correction to one partner's statement of one quarter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    adjustment_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    partner_id: Annotated[str, Field(min_length=1)]
    period: str
    program_id: str | None = None
    amount: Annotated[Decimal, Field(max_digits=18, decimal_places=2)]
    reason: Annotated[str, Field(min_length=3)]
    approval: Literal["approved", "in_review", "rejected"]
    approved_by: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Adjustment:
        if not _QUARTER.fullmatch(self.period):
            raise ValueError(
                f"period: expected a quarter like '2026Q3', got {self.period!r}"
            )
        if self.amount == 0:
            raise ValueError("amount: an adjustment of 0 changes nothing; remove it")
        if self.approval == "approved" and not self.approved_by:
            raise ValueError(
                "approved_by: an approved adjustment names who approved it"
            )
        return self


class Adjustments(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    adjustments: list[Adjustment] = []


def load_adjustments(config_dir: Path) -> list[Adjustment]:
    """The validated adjustments; ids must be unique."""
    path = config_dir / ADJUSTMENTS_FILE
    if not path.exists():
        return []
    adjustments = load_yaml_model(path, Adjustments).adjustments
    ids = [a.adjustment_id for a in adjustments]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ConfigError(f"{path}: adjustment_id used twice: {twice}")
    return adjustments


ADJUSTMENTS_DDL = """
create table config.rebate_adjustments (
    adjustment_id varchar not null,
    partner_id varchar not null,
    period varchar not null,
    program_id varchar,
    amount decimal(18,2) not null,
    reason varchar not null,
    approval varchar not null,
    approved_by varchar
)
"""


def adjustment_tables(adjustments: list[Adjustment]) -> dict[str, ConfigTable]:
    def strings(values: list[str | None]) -> pa.Array:
        return pa.array(values, pa.string())

    return {
        "config.rebate_adjustments": (
            ADJUSTMENTS_DDL,
            pa.table(
                {
                    "adjustment_id": strings([a.adjustment_id for a in adjustments]),
                    "partner_id": strings([a.partner_id for a in adjustments]),
                    "period": strings([a.period for a in adjustments]),
                    "program_id": strings([a.program_id for a in adjustments]),
                    "amount": decimal_array(2, [a.amount for a in adjustments]),
                    "reason": strings([a.reason for a in adjustments]),
                    "approval": strings([a.approval for a in adjustments]),
                    "approved_by": strings([a.approved_by for a in adjustments]),
                }
            ),
        )
    }

"""The gate's thresholds, read from ``<config dir>/gate.yml`` and validated.

Finance and ops tune these without touching code: the rebate-rate ceiling,
how far a period's row count may fall against the previous period before the
gate calls it collapsed, how sharp a partner's sales jump must be to be
flagged, the range of dates a row may carry, and what an optional input
without a single row does. A missing file means the defaults below; an
invalid one stops the run with the file, the key and the reason
(``ConfigError``). Loaded by the gate task before the checks run and by
``channelops check-config``.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from channelops.rules.files import load_yaml_model

logger = logging.getLogger(__name__)

GATE_FILE_NAME = "gate.yml"

# Compared in SQL as decimal(9,6): below 1000, at most 6 decimals.
Ratio = Annotated[Decimal, Field(gt=0, lt=1000, max_digits=9, decimal_places=6)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]


class SalesJump(BaseModel):
    """When a partner's net sales against the previous quarter look implausible."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Flag when this quarter's net sales exceed `factor` times the previous.
    factor: Annotated[Ratio, Field(gt=1)] = Decimal("10")
    # ...and the increase is at least this much money (ignore tiny bases).
    min_increase: Amount = Decimal("50000.00")


# What an input without a single row does: block publication, warn (hold
# statements and partner mail unless overridden), or nothing at all (an
# input the company does not supply).
EmptyInput = Literal["block", "warn", "ignore"]


class EmptyInputs(BaseModel):
    """Per optional input, what the gate does when it has no rows at all.

    Partners and order lines are not optional: without them nothing settles,
    so they always block and cannot be listed here.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner_contacts: EmptyInput = "warn"
    payments: EmptyInput = "warn"
    feedback: EmptyInput = "warn"
    activities: EmptyInput = "warn"
    targets: EmptyInput = "warn"

    def for_input(self, dataset: str) -> EmptyInput:
        """The setting for ``dataset``; an input not listed here warns."""
        setting: EmptyInput = getattr(self, dataset, "warn")
        return setting


class GateConfig(BaseModel):
    """Thresholds of the data-quality gate; every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Warn when a statement pays more than this share of its net sales.
    rebate_rate_ceiling: Ratio = Decimal("0.10")
    # Flag a period whose rows fall below this share of the previous period's.
    collapse_ratio: Annotated[Ratio, Field(le=1)] = Decimal("0.5")
    sales_jump: SalesJump = SalesJump()
    # Dates before this are typing errors (Excel's day zero, a missing year).
    earliest_date: date = date(2000, 1, 1)
    # Days a date may lie after the run date (source time zones run ahead).
    future_days: Annotated[int, Field(ge=0, le=31)] = 1
    empty_inputs: EmptyInputs = EmptyInputs()


def gate_config_path(config_dir: Path) -> Path:
    """Where the gate's thresholds live in a config folder."""
    return config_dir / GATE_FILE_NAME


def load_gate_config(config_dir: Path) -> GateConfig:
    """Read ``gate.yml`` from ``config_dir``; its absence means the defaults."""
    path = gate_config_path(config_dir)
    if not path.is_file():
        logger.info("no %s; the gate uses its default thresholds", path)
        return GateConfig()
    return load_yaml_model(path, GateConfig)

"""Scorecard rules: metric weights, floors and caps, tiers (``scorecard.yml``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from channelops.rules.files import ConfigTable, decimal_array, load_yaml_model


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


def load_scorecard(config_dir: Path) -> ScorecardRules:
    return load_yaml_model(config_dir / "scorecard.yml", ScorecardRules)


METRICS_DDL = """
create table config.scorecard_metrics (
    metric varchar not null,
    label_zh varchar not null,
    label_en varchar not null,
    weight decimal(9,6) not null,
    is_higher_better boolean not null,
    floor_value decimal(18,6) not null,
    cap_value decimal(18,6) not null
)
"""
TIERS_DDL = """
create table config.scorecard_tiers (
    tier varchar not null,
    label_zh varchar not null,
    label_en varchar not null,
    min_score decimal(7,2)
)
"""
SETTINGS_DDL = """
create table config.scorecard_settings (
    min_metrics integer not null,
    insufficient_tier varchar not null
)
"""


def scorecard_tables(scorecard: ScorecardRules) -> dict[str, ConfigTable]:
    """The scorecard rules as the config tables the dbt models read."""
    metrics = scorecard.metrics
    tiers = scorecard.tiers
    return {
        "config.scorecard_metrics": (
            METRICS_DDL,
            pa.table(
                {
                    "metric": [m.metric for m in metrics],
                    "label_zh": [m.label_zh for m in metrics],
                    "label_en": [m.label_en for m in metrics],
                    "weight": pa.array(
                        [m.weight for m in metrics], pa.decimal128(9, 6)
                    ),
                    "is_higher_better": [m.higher_is_better for m in metrics],
                    "floor_value": decimal_array(6, [m.floor for m in metrics]),
                    "cap_value": decimal_array(6, [m.cap for m in metrics]),
                }
            ),
        ),
        "config.scorecard_tiers": (
            TIERS_DDL,
            pa.table(
                {
                    "tier": [t.tier for t in tiers] + [scorecard.insufficient_tier],
                    "label_zh": [t.label_zh for t in tiers]
                    + [scorecard.insufficient_label_zh],
                    "label_en": [t.label_en for t in tiers]
                    + [scorecard.insufficient_label_en],
                    # The insufficient-data tier has no minimum score.
                    "min_score": pa.array(
                        [t.min_score for t in tiers] + [None], pa.decimal128(7, 2)
                    ),
                }
            ),
        ),
        "config.scorecard_settings": (
            SETTINGS_DDL,
            pa.table(
                {
                    "min_metrics": pa.array([scorecard.min_metrics], pa.int32()),
                    "insufficient_tier": [scorecard.insufficient_tier],
                }
            ),
        ),
    }

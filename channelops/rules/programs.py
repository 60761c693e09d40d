"""Rebate programs: one validated YAML file per program in ``programs/``.

A program file says what counts (basis and scope), how the amount is
computed (calculation and tiers), over which period tiers accumulate, and
the conditions on paying it (collection eligibility, cap, minimum payout).
Every calculation kind is written to the warehouse as one normal form, so
the dbt models need only two bandings:

- ``retroactive``: the reached tier's rate (and fixed amount) applies to the
  whole basis. ``percentage`` is one open tier, ``fixed_target`` is a zero
  tier below the target and a fixed amount from it, ``growth`` is a
  percentage of the increase over the same period a year before;
- ``incremental``: each tier's rate applies to its own slice. ``per_unit``
  is incremental on quantity with an amount per unit as the rate.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, NamedTuple, get_args

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from channelops.errors import ConfigError
from channelops.periods import Quarter
from channelops.rules.files import ConfigTable, decimal_array, load_yaml_model
from channelops.rules.scorecard import ScorecardRules, load_scorecard

Rate = Annotated[Decimal, Field(ge=0, le=1, max_digits=9, decimal_places=6)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
Bound = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=3)]
PerUnit = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
Code = Annotated[str, Field(min_length=1)]

Calculation = Literal[
    "retroactive", "incremental", "per_unit", "percentage", "fixed_target", "growth"
]
TIERED: frozenset[str] = frozenset({"retroactive", "incremental", "per_unit"})
# The one rounding rule: each printed line is rounded once, half away from
# zero, to the fen; a statement's total is the sum of its printed lines.
ROUNDING = "half_up_fen"


class Tier(BaseModel):
    """One band from ``from`` to ``to`` (open when ``to`` is left out).

    Which end belongs to the band is the program's ``bounds``: by default
    ``from`` is inclusive and ``to`` exclusive.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    lower: Bound = Field(alias="from")
    upper: Bound | None = Field(default=None, alias="to")
    rate: Rate | None = None
    per_unit: PerUnit | None = None
    # A fixed amount paid on reaching the tier (target attainment only).
    amount: Amount | None = None


class Scope(BaseModel):
    """Which order lines count; an empty list means no restriction.

    ``partner_tiers`` are scorecard tiers (scorecard.yml): a line counts when
    its partner held one of them at the end of the quarter before the line's
    quarter (the scorecard is computed from the sales, not from rebates).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_ids: list[Code] = []
    product_categories: list[Code] = []
    regions: list[Code] = []
    partner_types: list[Code] = []
    partner_tiers: list[Code] = []

    def rows(self) -> list[tuple[str, str]]:
        """(dimension, value) pairs as the scope table stores them."""
        return [
            (dimension, value)
            for dimension, values in (
                ("product_id", self.product_ids),
                ("product_category", self.product_categories),
                ("region", self.regions),
                ("partner_type", self.partner_types),
                ("partner_tier", self.partner_tiers),
            )
            for value in values
        ]


class Eligibility(BaseModel):
    """Conditions a partner must meet to be paid anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Collected over invoiced (回款率) in the accumulation period so far.
    min_collection_ratio: Rate | None = None


# new_customer_sales: net sales to customers new to the partner in the
# accumulation period; new_customers: how many such customers;
# co_marketing_spend: the cost the partner invested in co-marketing
# activities completed (ended) in the period; co_marketing_activities: how
# many such activities; sub_distributor_sales: the net sales of the
# partner's direct sub-distributors, credited to it (an override share);
# target_attainment: the quarter's net sales over the partner's target for
# the quarter, whose tiers pay a rate of the net sales or an amount.
Basis = Literal[
    "net_sales",
    "quantity",
    "new_customer_sales",
    "new_customers",
    "co_marketing_spend",
    "co_marketing_activities",
    "sub_distributor_sales",
    "target_attainment",
]
# The fields that say how one statement line's amount is computed: a
# program declares them itself, or once per component.
RULE_FIELDS = frozenset(
    {"basis", "calculation", "bounds", "scope", "tiers", "rate", "target", "amount"}
)


class Rule(BaseModel):
    """How one statement line's amount is computed: what counts and how.

    ``check_rule`` validates it; the program calls it with its own
    accumulation, for itself or for each of its components.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    basis: Basis = "net_sales"
    calculation: Calculation | None = None
    bounds: Literal["lower_inclusive", "upper_inclusive"] = "lower_inclusive"
    scope: Scope = Scope()
    tiers: list[Tier] | None = None
    rate: Rate | None = None
    target: Amount | None = None
    amount: Amount | None = None
    cap: Amount | None = None

    def check_rule(self, accumulation: str) -> None:
        """Raise ValueError('key: reason') when the rule cannot be computed."""
        self._check_fields_of_the_calculation()
        if self.tiers is not None:
            self._check_tiers(self.tiers)
        if self.basis in ("new_customers", "co_marketing_activities") and (
            self.rate is not None
        ):
            raise ValueError(
                f"rate: basis {self.basis!r} is a count, a rate on it pays "
                "a fraction of a yuan per item; use calculation 'per_unit' "
                "with tiers giving 'per_unit' amounts"
            )
        if self.basis == "target_attainment":
            self._check_target_attainment(accumulation)
        if self.basis.startswith("co_marketing_"):
            for name in ("product_ids", "product_categories"):
                if getattr(self.scope, name):
                    raise ValueError(
                        f"scope.{name}: activities have no products; a "
                        f"{self.basis!r} basis may be scoped by regions, "
                        "partner_types and partner_tiers only"
                    )

    def _check_fields_of_the_calculation(self) -> None:
        if self.calculation is None:
            raise ValueError(
                "calculation: required; one of " + ", ".join(get_args(Calculation))
            )
        wanted = {
            "retroactive": {"tiers"},
            "incremental": {"tiers"},
            "per_unit": {"tiers"},
            "percentage": {"rate"},
            "growth": {"rate"},
            "fixed_target": {"target", "amount"},
        }[self.calculation]
        given = {
            name
            for name in ("tiers", "rate", "target", "amount")
            if getattr(self, name) is not None
        }
        for name in sorted(wanted - given):
            raise ValueError(f"{name}: required for calculation {self.calculation!r}")
        for name in sorted(given - wanted):
            raise ValueError(
                f"{name}: not used by calculation {self.calculation!r}; "
                f"remove it (this calculation reads {', '.join(sorted(wanted))})"
            )
        if self.calculation == "per_unit" and not self.counts_units:
            raise ValueError(
                "basis: calculation 'per_unit' needs basis 'quantity' or "
                "'new_customers'"
            )

    def _check_target_attainment(self, accumulation: str) -> None:
        """Quarterly tiers on attainment, reached when attainment is at least
        a tier's ``from``; each pays a rate of the net sales or an amount."""
        given = {
            "calculation": self.calculation,
            "accumulation": accumulation,
            "bounds": self.bounds,
        }
        wanted = {
            "calculation": "retroactive",
            "accumulation": "quarter",
            "bounds": "lower_inclusive",
        }
        for name, value in wanted.items():
            if given[name] != value:
                raise ValueError(
                    f"{name}: basis 'target_attainment' pays the tier the "
                    f"quarter's attainment reaches; it needs {name} {value!r}, "
                    f"got {given[name]!r}"
                )

    def _check_tiers(self, tiers: list[Tier]) -> None:
        if not tiers:
            raise ValueError("tiers: at least one tier is needed")
        if self.basis == "target_attainment":
            for index, tier in enumerate(tiers):
                if tier.rate is None and tier.amount is None:
                    raise ValueError(
                        f"tiers.{index}: give 'rate' (of the quarter's net "
                        "sales) or 'amount' (a fixed sum), 0 for none"
                    )
                if tier.per_unit is not None:
                    raise ValueError(
                        f"tiers.{index}.per_unit: not used with basis "
                        "'target_attainment'; give 'rate' or 'amount'"
                    )
            self._check_bands(tiers)
            return
        field = "per_unit" if self.counts_units else "rate"
        for index, tier in enumerate(tiers):
            if tier.amount is not None:
                raise ValueError(
                    f"tiers.{index}.amount: a fixed amount per tier is for "
                    "basis 'target_attainment'; for one target use calculation "
                    "'fixed_target'"
                )
            if getattr(tier, field) is None:
                raise ValueError(
                    f"tiers.{index}.{field}: required, the basis is {self.basis!r}"
                )
            other = "rate" if field == "per_unit" else "per_unit"
            if getattr(tier, other) is not None:
                raise ValueError(
                    f"tiers.{index}.{other}: not used with basis {self.basis!r}; "
                    f"give '{field}' instead"
                )
        self._check_bands(tiers)

    @staticmethod
    def _check_bands(tiers: list[Tier]) -> None:
        """From 0, each tier starting where the one before ends, the top open."""
        if tiers[0].lower != 0:
            raise ValueError(
                f"tiers.0.from: the first tier must start at 0, got {tiers[0].lower}"
            )
        for index, (tier, following) in enumerate(zip(tiers, tiers[1:], strict=False)):
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
        if tiers[-1].upper is not None:
            raise ValueError(
                f"tiers.{len(tiers) - 1}.to: the top tier must be open "
                "(leave out 'to') so that every amount has a rate"
            )

    @property
    def counts_units(self) -> bool:
        """Whether the basis is a count (units, customers): tiers pay per unit."""
        return self.basis in ("quantity", "new_customers", "co_marketing_activities")

    @property
    def banding(self) -> Literal["retroactive", "incremental"]:
        """How the normal-form tiers apply: to the whole basis or per slice."""
        if self.calculation in ("incremental", "per_unit"):
            return "incremental"
        return "retroactive"

    @property
    def measure(self) -> Literal["volume", "growth"]:
        return "growth" if self.calculation == "growth" else "volume"

    def normal_tiers(self) -> list[NormalTier]:
        """The calculation as tiers: (name, lower, upper, rate, fixed amount)."""
        zero = Decimal("0")
        if self.tiers is not None:
            return [
                NormalTier(
                    t.name,
                    t.lower,
                    t.upper,
                    t.rate or t.per_unit or zero,
                    t.amount or zero,
                )
                for t in self.tiers
            ]
        if self.calculation == "fixed_target":
            assert self.target is not None and self.amount is not None
            return [
                NormalTier("below target", zero, self.target, zero, zero),
                NormalTier("target reached", self.target, None, zero, self.amount),
            ]
        assert self.rate is not None and self.calculation is not None
        return [NormalTier(self.calculation, zero, None, self.rate, zero)]


class Component(Rule):
    """One part of a combined program ("triple incentive"): its own line."""

    component_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str


class ProgramPart(NamedTuple):
    """What the warehouse computes as one statement line of a program."""

    program_key: str
    line_item_id: str
    component_no: int
    component_id: str | None
    component_name: str | None
    rule: Rule


class RebateProgram(Rule):
    """A rebate on a partner's sales, settled quarterly.

    It declares its rule itself, or ``components``: several rules (each with
    its own basis, calculation, tiers, scope and cap), one statement line
    each, under the program's id, version, dates, accumulation, eligibility
    and minimum payout. With components, ``cap`` is shared by them all.
    """

    program_id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: str
    version: Annotated[int, Field(ge=1)]
    effective_from: date
    effective_to: date | None = None
    settlement_period: Literal["quarter"] = "quarter"
    accumulation: Literal["quarter", "year"] = "quarter"
    eligibility: Eligibility = Eligibility()
    minimum_payout: Amount = Decimal("0")
    rounding: Literal["half_up_fen"] = "half_up_fen"
    components: list[Component] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RebateProgram:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to: before effective_from")
        if self.components is None:
            self.check_rule(self.accumulation)
        else:
            self._check_components(self.components)
        return self

    def _check_components(self, components: list[Component]) -> None:
        for name in sorted(RULE_FIELDS & self.model_fields_set):
            raise ValueError(
                f"{name}: a program with components declares it in each "
                "component; move it there"
            )
        if not components:
            raise ValueError("components: give at least one, or leave them out")
        seen: set[str] = set()
        for index, component in enumerate(components):
            if component.component_id in seen:
                raise ValueError(
                    f"components.{index}.component_id: "
                    f"{component.component_id!r} is used twice in this program"
                )
            seen.add(component.component_id)
            try:
                component.check_rule(self.accumulation)
            except ValueError as error:
                raise ValueError(f"components.{index}.{error}") from None

    @property
    def program_key(self) -> str:
        """The key of the program version; a component's adds its id."""
        return f"{self.program_id}@v{self.version}"

    def parts(self) -> list[ProgramPart]:
        """The statement lines the program computes: itself or its components."""
        if self.components is None:
            return [ProgramPart(self.program_key, self.program_id, 1, None, None, self)]
        return [
            ProgramPart(
                f"{self.program_key}:{component.component_id}",
                f"{self.program_id}:{component.component_id}",
                number,
                component.component_id,
                component.name,
                component,
            )
            for number, component in enumerate(self.components, start=1)
        ]


class NormalTier(NamedTuple):
    """A tier in the warehouse's normal form."""

    name: str
    lower: Decimal
    upper: Decimal | None
    rate: Decimal
    fixed_amount: Decimal


def load_programs(config_dir: Path) -> list[RebateProgram]:
    """Every program file, validated, with its versions' dates in order.

    A program may have several versions, one file each, over date ranges
    that do not overlap and never share a quarter: a quarter settles under
    the one version effective in it.
    """
    paths = sorted((config_dir / "programs").glob("*.yml"))
    if not paths:
        raise ConfigError(
            f"no rebate program files in {config_dir / 'programs'}; add one "
            "(see docs/rebates.md)"
        )
    loaded = [(path, load_yaml_model(path, RebateProgram)) for path in paths]
    if any(part.rule.scope.partner_tiers for _, p in loaded for part in p.parts()):
        _check_partner_tiers(loaded, load_scorecard(config_dir))
    by_id: dict[str, list[tuple[Path, RebateProgram]]] = {}
    for path, program in loaded:
        by_id.setdefault(program.program_id, []).append((path, program))
    for versions in by_id.values():
        _check_versions(sorted(versions, key=lambda pair: pair[1].version))
    return [program for _, program in loaded]


def _check_partner_tiers(
    loaded: list[tuple[Path, RebateProgram]], scorecard: ScorecardRules
) -> None:
    """Every tier a scope names is one the scorecard gives out."""
    tiers = [t.tier for t in scorecard.tiers] + [scorecard.insufficient_tier]
    for path, program in loaded:
        for part in program.parts():
            key = "scope.partner_tiers"
            if part.component_id is not None:
                key = f"components.{part.component_no - 1}.{key}"
            for tier in part.rule.scope.partner_tiers:
                if tier not in tiers:
                    raise ConfigError(
                        f"{path}: {key}: {tier!r} is not a scorecard tier; "
                        f"expected one of {', '.join(tiers)} (scorecard.yml)"
                    )


def _check_versions(versions: list[tuple[Path, RebateProgram]]) -> None:
    """Versions of one program: distinct numbers, later ones dated later."""
    for (path, program), (next_path, following) in zip(
        versions, versions[1:], strict=False
    ):
        label = f"{program.program_id} v{program.version}"
        if following.version == program.version:
            raise ConfigError(
                f"{next_path}: version: {label} is also declared in {path}; "
                "give the newer file the next version number"
            )
        if program.effective_to is None or following.effective_from <= (
            program.effective_to
        ):
            ends = program.effective_to or "open-ended"
            raise ConfigError(
                f"{next_path}: effective_from: {following.effective_from} "
                f"overlaps {label} in {path} ({program.effective_from} to "
                f"{ends}); set that version's effective_to before "
                f"{following.effective_from}"
            )
        if Quarter.containing(following.effective_from) == Quarter.containing(
            program.effective_to
        ):
            quarter = Quarter.containing(following.effective_from)
            raise ConfigError(
                f"{next_path}: effective_from: {following.effective_from} "
                f"shares {quarter} with {label} in {path}, which ends "
                f"{program.effective_to}; a quarter settles under one version, "
                f"so start v{following.version} on {quarter.next().first_day} "
                f"or end v{program.version} by {quarter.previous().last_day}"
            )


PROGRAMS_DDL = """
create table config.rebate_programs (
    program_key varchar not null,
    program_id varchar not null,
    line_item_id varchar not null,
    component_no integer not null,
    component_id varchar,
    component_name varchar,
    program_name varchar not null,
    program_version integer not null,
    effective_from date not null,
    effective_to date,
    basis varchar not null,
    calculation varchar not null,
    banding varchar not null,
    measure varchar not null,
    accumulation varchar not null,
    bounds varchar not null,
    min_collection_ratio decimal(9,6),
    cap_amount decimal(18,2),
    program_cap_amount decimal(18,2),
    minimum_payout decimal(18,2) not null,
    rounding varchar not null
)
"""
TIERS_DDL = """
create table config.rebate_tiers (
    program_key varchar not null,
    tier_no integer not null,
    tier_name varchar not null,
    lower_bound decimal(18,3) not null,
    upper_bound decimal(18,3),
    rate decimal(18,6) not null,
    fixed_amount decimal(18,2) not null
)
"""
SCOPE_DDL = """
create table config.rebate_scope (
    program_key varchar not null,
    dimension varchar not null,
    scope_value varchar not null
)
"""


def program_tables(programs: list[RebateProgram]) -> dict[str, ConfigTable]:
    """The programs as the config tables the dbt models read, one row per part.

    A program without components is one part; a program with components is
    one part per component, each with its own key, rule and cap, and the
    program's cap as the cap they share.
    """
    parts = [(p, part) for p in programs for part in p.parts()]
    tiers = [
        (part, n, t)
        for _, part in parts
        for n, t in enumerate(part.rule.normal_tiers(), start=1)
    ]
    scope = [(part, d, v) for _, part in parts for d, v in part.rule.scope.rows()]

    def strings(values: list[str | None]) -> pa.Array:
        return pa.array(values, pa.string())

    return {
        "config.rebate_programs": (
            PROGRAMS_DDL,
            pa.table(
                {
                    "program_key": strings([part.program_key for _, part in parts]),
                    "program_id": strings([p.program_id for p, _ in parts]),
                    "line_item_id": strings([part.line_item_id for _, part in parts]),
                    "component_no": pa.array(
                        [part.component_no for _, part in parts], pa.int32()
                    ),
                    "component_id": strings([part.component_id for _, part in parts]),
                    "component_name": strings(
                        [part.component_name for _, part in parts]
                    ),
                    "program_name": strings([p.name for p, _ in parts]),
                    "program_version": pa.array(
                        [p.version for p, _ in parts], pa.int32()
                    ),
                    "effective_from": pa.array(
                        [p.effective_from for p, _ in parts], pa.date32()
                    ),
                    "effective_to": pa.array(
                        [p.effective_to for p, _ in parts], pa.date32()
                    ),
                    "basis": strings([part.rule.basis for _, part in parts]),
                    "calculation": strings(
                        [part.rule.calculation for _, part in parts]
                    ),
                    "banding": strings([part.rule.banding for _, part in parts]),
                    "measure": strings([part.rule.measure for _, part in parts]),
                    "accumulation": strings([p.accumulation for p, _ in parts]),
                    "bounds": strings([part.rule.bounds for _, part in parts]),
                    "min_collection_ratio": pa.array(
                        [p.eligibility.min_collection_ratio for p, _ in parts],
                        pa.decimal128(9, 6),
                    ),
                    "cap_amount": decimal_array(
                        2, [part.rule.cap for _, part in parts]
                    ),
                    "program_cap_amount": decimal_array(
                        2, [None if p.components is None else p.cap for p, _ in parts]
                    ),
                    "minimum_payout": decimal_array(
                        2, [p.minimum_payout for p, _ in parts]
                    ),
                    "rounding": strings([p.rounding for p, _ in parts]),
                }
            ),
        ),
        "config.rebate_tiers": (
            TIERS_DDL,
            pa.table(
                {
                    "program_key": strings([part.program_key for part, _, _ in tiers]),
                    "tier_no": pa.array([n for _, n, _ in tiers], pa.int32()),
                    "tier_name": strings([t.name for _, _, t in tiers]),
                    "lower_bound": decimal_array(3, [t.lower for _, _, t in tiers]),
                    "upper_bound": decimal_array(3, [t.upper for _, _, t in tiers]),
                    "rate": decimal_array(6, [t.rate for _, _, t in tiers]),
                    "fixed_amount": decimal_array(
                        2, [t.fixed_amount for _, _, t in tiers]
                    ),
                }
            ),
        ),
        "config.rebate_scope": (
            SCOPE_DDL,
            pa.table(
                {
                    "program_key": strings([part.program_key for part, _, _ in scope]),
                    "dimension": strings([d for _, d, _ in scope]),
                    "scope_value": strings([v for _, _, v in scope]),
                }
            ),
        ),
    }

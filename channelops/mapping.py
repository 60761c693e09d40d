"""Source mapping files: how a customer's export maps onto the input contract.

One YAML file per source under ``<config_dir>/sources/``. Each names the
files of each dataset in the drop folder and, for every contract field,
where its value comes from: a column, a template over columns, or a fixed
value. A mapping that names an unknown dataset or field, or leaves a
required field unmapped, is rejected before any file is read.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from channelops.contract import DATASETS
from channelops.errors import ConfigError, describe_validation_error

Encoding = Literal["auto", "utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"]


class FieldSource(BaseModel):
    """Where one contract field's value comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    template: str | None = None
    value: str | None = None
    # Source spellings translated to contract values, e.g. {退货: return}.
    values: dict[str, str] = Field(default_factory=dict)
    # Numbers with more decimals than the contract keeps are rejected unless
    # the mapping states how to round them.
    rounding: Literal["reject", "half_up", "half_even"] = "reject"
    default: str | None = None

    @model_validator(mode="after")
    def _exactly_one_origin(self) -> FieldSource:
        origins = [o for o in (self.column, self.template, self.value) if o is not None]
        if len(origins) != 1:
            raise ValueError("give exactly one of column, template or value")
        return self

    def columns_used(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        if self.template is not None:
            return [
                name
                for _, name, _, _ in string.Formatter().parse(self.template)
                if name is not None
            ]
        return []


def _as_field_source(raw: Any) -> Any:
    return {"column": raw} if isinstance(raw, str) else raw


class DatasetMapping(BaseModel):
    """How one dataset is found in the drop folder and mapped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    files: list[str]
    encoding: Encoding = "auto"
    delimiter: str = ","
    sheet: str | None = None
    header_row: Annotated[int, Field(ge=1)] = 1
    null_values: list[str] = Field(default_factory=lambda: ["", "NULL", "null"])
    date_formats: list[str] = Field(default_factory=lambda: ["%Y-%m-%d"])
    timestamp_formats: list[str] = Field(
        default_factory=lambda: ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
    )
    thousands_separator: str | None = None
    fields: dict[str, FieldSource]

    @model_validator(mode="before")
    @classmethod
    def _shorthand_columns(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("fields"), dict):
            data = dict(data)
            data["fields"] = {k: _as_field_source(v) for k, v in data["fields"].items()}
        return data


class SourceMapping(BaseModel):
    """A source: a set of files that arrive together, and how to read them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    description: str = ""
    timezone: str = "Asia/Shanghai"
    datasets: dict[str, DatasetMapping]

    @model_validator(mode="after")
    def _fits_the_contract(self) -> SourceMapping:
        for dataset_name, mapping in self.datasets.items():
            if dataset_name not in DATASETS:
                known = ", ".join(DATASETS)
                raise ValueError(
                    f"datasets.{dataset_name}: unknown dataset {dataset_name!r}; "
                    f"known: {known}"
                )
            dataset = DATASETS[dataset_name]
            for field_name in mapping.fields:
                if field_name not in dataset.field_names:
                    raise ValueError(
                        f"datasets.{dataset_name}.fields: unknown field "
                        f"{field_name!r}; contract fields: "
                        + ", ".join(dataset.field_names)
                    )
            missing = [
                f.name
                for f in dataset.fields
                if f.required and f.name not in mapping.fields
            ]
            if missing:
                raise ValueError(
                    f"datasets.{dataset_name}.fields: required field(s) not mapped: "
                    + ", ".join(missing)
                )
            for field_name, source in mapping.fields.items():
                allowed = dataset.field(field_name).allowed
                bad = sorted(set(source.values.values()) - set(allowed))
                if allowed and bad:
                    raise ValueError(
                        f"datasets.{dataset_name}.fields.{field_name}.values: "
                        f"{bad} not among {list(allowed)}"
                    )
        return self


def load_mapping(path: Path) -> SourceMapping:
    """Read and validate one mapping file, naming the file and key on error."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return SourceMapping.model_validate(raw)
    except ValidationError as exc:
        problems = describe_validation_error(exc)
        raise ConfigError(f"source mapping {path}: {problems}") from exc


def load_mappings(config_dir: Path) -> list[SourceMapping]:
    """All mapping files under ``<config_dir>/sources``, sorted by name."""
    folder = config_dir / "sources"
    paths = sorted(folder.glob("*.yml")) + sorted(folder.glob("*.yaml"))
    if not paths:
        raise ConfigError(
            f"no source mapping files in {folder}; add one per source "
            "(see docs/input-contract.md)"
        )
    mappings = [load_mapping(p) for p in paths]
    names = [m.name for m in mappings]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ConfigError(f"{folder}: source name(s) used twice: {duplicated}")
    return mappings

"""Reading a rules file: YAML in, a validated model out, or a ConfigError
that names the file, the key and the reason."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import yaml
from pydantic import BaseModel, ValidationError

from channelops.errors import ConfigError, describe_validation_error

Model = TypeVar("Model", bound=BaseModel)

# A config table: its DDL and its rows.
ConfigTable = tuple[str, pa.Table]


def load_yaml_model(path: Path, model: type[Model]) -> Model:
    """Validate one YAML file against ``model``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing; see docs/configuration.md") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {describe_validation_error(exc)}") from exc


def decimal_array(scale: int, values: list[Decimal | None]) -> pa.Array:
    return pa.array(values, type=pa.decimal128(18, scale))

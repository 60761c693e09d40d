"""Where channelops keeps things and how it reaches its services.

The one place that resolves the environment (``local`` or ``prod``) into
paths, the warehouse, the dbt target and mail settings. Every value can be set
with a ``CHANNELOPS_*`` environment variable; nothing else reads the process
environment for these.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import quote

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from channelops.errors import ConfigError

Environment = Literal["local", "prod"]

# The repository layout: product code finds its own dbt project and templates
# here, and nowhere else.
PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DBT_PROJECT_DIR = PROJECT_DIR / "dbt_project"
DEFAULT_CONFIG_DIR = PROJECT_DIR / "config"


class Settings(BaseSettings):
    """Run settings, read from ``CHANNELOPS_*`` variables."""

    model_config = SettingsConfigDict(env_prefix="CHANNELOPS_", extra="ignore")

    env: Environment = "local"
    home: Path = Field(default_factory=lambda: Path.cwd() / "var")
    config_dir: Path = DEFAULT_CONFIG_DIR
    drop_dir: Path | None = None
    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    # The pull types simple CSV exports in bulk in DuckDB; false types every
    # row through the row parser (same result, slower), e.g. to rule it out.
    bulk_csv: bool = True

    # Runs: how long one waits for another to release the warehouse, and the
    # days finance has after a quarter's end before it is settled (the
    # settlement runs on the next day, deployed by `channelops ops up`).
    lock_wait_seconds: float = Field(default=600.0, gt=0)
    settlement_grace_days: int = Field(default=9, ge=0, le=27)
    # Where the ops stack serves Data Docs and dbt docs over HTTP, for the
    # links in run artifacts; unset, the links point at the files.
    docs_url: str | None = None

    # prod: PostgreSQL warehouse.
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: SecretStr = SecretStr("")
    pg_database: str = "channelops"

    # local: the memory DuckDB may use for the warehouse, in dbt and in
    # channelops alike; beyond it, it spills to disk beside the warehouse.
    # Its own default, 80 % of the machine, took 11.8 GB for a 10 M-line
    # build that runs as fast within 2 GB (bench/README.md).
    duckdb_memory_limit: str = Field(
        default="2GB", pattern=r"^\d+(\.\d+)?\s*([KMGT]i?B|%)$"
    )

    # Mail. With no smtp_host, local runs deliver to an embedded SMTP sink
    # that stores every message as an .eml file under ``outbox_dir``.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    # Or the name of a Prefect Secret block that holds the password, so that
    # it lives in Prefect (encrypted at rest) rather than in the worker's
    # environment. Read when mail is sent; see smtp_password_value().
    smtp_password_block: str | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    mail_from: str = "channelops@example.com"
    mail_from_name: str = "渠道运营中心"
    ops_email: str = "channel-ops@example.com"
    mail_per_second: float = 50.0
    # Worker processes that render messages while the outbox sends; unset,
    # one per core for a big batch (channelops.rendering), 0 renders in the
    # sending process.
    render_workers: int | None = Field(default=None, ge=0)

    # Ops alerts: also to a Feishu (Lark) group bot when its webhook is set,
    # signed when its secret is set (both are secrets: never logged). At most
    # ``alerts_per_hour`` alerts go out per channel; the rest are counted
    # and named in the next alert that goes out.
    feishu_webhook_url: SecretStr | None = None
    feishu_secret: SecretStr | None = None
    alerts_per_hour: int = Field(default=20, ge=1)

    @model_validator(mode="after")
    def _one_smtp_password_source(self) -> Settings:
        if self.smtp_password is not None and self.smtp_password_block is not None:
            raise ValueError(
                "CHANNELOPS_SMTP_PASSWORD and CHANNELOPS_SMTP_PASSWORD_BLOCK are "
                "both set; expected one of them: unset the password to read it "
                f"from the Prefect Secret block {self.smtp_password_block!r}, or "
                "unset the block"
            )
        return self

    def smtp_password_value(self) -> str | None:
        """The relay password: from CHANNELOPS_SMTP_PASSWORD or the Secret block.

        The block is read from the Prefect API each time mail is sent, so a
        password changed in Prefect is used by the next send. The value is
        never logged.
        """
        if self.smtp_password_block is None:
            return (
                None
                if self.smtp_password is None
                else self.smtp_password.get_secret_value()
            )
        return _read_secret_block(self.smtp_password_block)

    @property
    def warehouse_kind(self) -> Literal["duckdb", "postgres"]:
        """DuckDB for local runs, PostgreSQL in production."""
        return "duckdb" if self.env == "local" else "postgres"

    @property
    def dbt_target(self) -> Environment:
        """dbt target names are the environment names."""
        return self.env

    @property
    def inbox_dir(self) -> Path:
        """Drop folder the file source reads."""
        return self.drop_dir if self.drop_dir is not None else self.home / "inbox"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def lock_path(self) -> Path:
        return self.home / "warehouse.lock"

    @property
    def scratch_dir(self) -> Path:
        """Temporary files of a run (decoded copies of exports), removed after it."""
        return self.home / "scratch"

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"

    @property
    def published_dir(self) -> Path:
        return self.home / "published"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def data_docs_dir(self) -> Path:
        return self.home / "data_docs"

    @property
    def dbt_docs_dir(self) -> Path:
        """dbt's generated docs: models, columns and lineage, one HTML file."""
        return self.home / "dbt_docs"

    @property
    def ops_dir(self) -> Path:
        """The local ops stack's logs, process ids and Prefect database."""
        return self.home / "ops"

    @property
    def warehouse_url(self) -> str:
        """SQLAlchemy URL of the warehouse, for the data-quality gate."""
        if self.warehouse_kind == "duckdb":
            # duckdb_engine passes query parameters to DuckDB as its config;
            # the same as the warehouse's own connections, or DuckDB refuses
            # a second connection to the file in one process.
            limit = quote(self.duckdb_memory_limit)
            return f"duckdb:///{self.warehouse_path}?memory_limit={limit}"
        password = self.pg_password.get_secret_value()
        credentials = f"{self.pg_user}:{password}" if password else self.pg_user
        return (
            f"postgresql+psycopg2://{credentials}@{self.pg_host}:{self.pg_port}"
            f"/{self.pg_database}"
        )

    @property
    def dbt_dir(self) -> Path:
        return DBT_PROJECT_DIR

    @cached_property
    def dbt_work_dir(self) -> Path:
        """Where dbt writes target/ and logs/, kept out of the source tree."""
        return self.home / "dbt"

    def dbt_env(self) -> dict[str, str]:
        """Environment variables the dbt profiles read."""
        env = dict(os.environ)
        env.update(
            CHANNELOPS_WAREHOUSE_PATH=str(self.warehouse_path),
            CHANNELOPS_DUCKDB_MEMORY_LIMIT=self.duckdb_memory_limit,
            CHANNELOPS_PG_HOST=self.pg_host,
            CHANNELOPS_PG_PORT=str(self.pg_port),
            CHANNELOPS_PG_USER=self.pg_user,
            CHANNELOPS_PG_PASSWORD=self.pg_password.get_secret_value(),
            CHANNELOPS_PG_DATABASE=self.pg_database,
            DBT_PROFILES_DIR=str(self.dbt_dir),
            DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        )
        return env


def _read_secret_block(name: str) -> str:
    # Imported here: Prefect costs ~2 s to import, and most commands never
    # send mail with a password.
    from prefect.blocks.system import Secret
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value() or "a temporary local API (PREFECT_API_URL is unset)"
    try:
        block = Secret.load(name)
    except ValueError as error:
        raise ConfigError(
            f"CHANNELOPS_SMTP_PASSWORD_BLOCK: expected the name of a Prefect "
            f"Secret block, received {name!r}, which the Prefect API at {api} "
            "does not have. Create it in the Prefect UI (Blocks, +, Secret, "
            f'name {name!r}) or with: python -c "from prefect.blocks.system '
            f"import Secret; Secret(value='<password>').save('{name}')\", "
            "with PREFECT_API_URL set as the worker has it"
        ) from error
    if not isinstance(block, Secret):
        # load() hands back a coroutine when called from async code.
        raise TypeError(
            f"expected the Secret block {name!r}, received {block!r}; read the "
            "SMTP password from synchronous code"
        )
    value = block.get()
    if not isinstance(value, str) or not value:
        raise ConfigError(
            f"CHANNELOPS_SMTP_PASSWORD_BLOCK: the Prefect Secret block {name!r} "
            f"holds {type(value).__name__ if value else 'an empty value'}, "
            "expected the relay password as text; save the password in it again"
        )
    return value


# Prefect's temporary local API takes 20-36 s to start on 2 cores, over its
# 20 s default; the machine may have no internet for analytics.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "INFO",
}


def apply_prefect_defaults() -> None:
    """Set Prefect's variables that the operator has not set, before import."""
    for name, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(name, value)


def load_settings() -> Settings:
    """Read settings from the environment."""
    return Settings()

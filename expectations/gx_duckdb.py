"""Make Great Expectations validate DuckDB warehouses: a shim, kept in one place.

Why it exists: GX 1.x (measured on 1.24.1 with duckdb-engine 0.17) accepts a
``duckdb:///path`` connection string, but every expectation then fails with
"list index out of range" (or "'NoneType' object is not subscriptable" for
SQL checks): GX runs each query inside ``with engine.connect()`` and fetches
its rows after that block has closed the connection, and DuckDB drops a
closed connection's pending rows. GX already keeps one persisted connection
per engine for the dialects that need it (sqlite, SQL Server, ...);
registering the duckdb dialect there makes every metric run as SQL on that
one open connection.

It reaches into a private GX name, so it is a known shortcoming. If a GX
upgrade renames that name, ``enable_duckdb_persisted_connection`` raises
rather than letting the gate run unpatched, and the tests check that a real
row count comes back from DuckDB. Remove this module, and its call in
``expectations.gate``, when GX fetches query results before closing the
connection on duckdb upstream (test: drop the call and run
``tests/expectations``; the DuckDB cases must still pass).

Runs in the process that runs the gate, before the first DuckDB datasource is
added. Applying it again does nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from great_expectations.execution_engine import sqlalchemy_execution_engine

logger = logging.getLogger(__name__)

DUCKDB_DIALECT = "duckdb"

# The private GX tuple of dialects that keep one persisted connection.
_REGISTRY_NAME = "_PERSISTED_CONNECTION_DIALECTS"


class _DialectName(str):
    """A dialect name that matches GX's registry the way its enum members do.

    GX tests an engine's dialect with ``name in registry`` and a connection
    string with ``url.startswith(member.value)``; a ``str`` with a ``value``
    answers both.
    """

    @property
    def value(self) -> str:
        return str(self)


def _registry() -> tuple[Any, ...]:
    registry = getattr(sqlalchemy_execution_engine, _REGISTRY_NAME, None)
    if not isinstance(registry, tuple):
        raise RuntimeError(
            "DuckDB shim for Great Expectations: expected a tuple named "
            f"{_REGISTRY_NAME} in {sqlalchemy_execution_engine.__name__}, "
            f"received {registry!r}; GX changed its internals, so re-check "
            "the shim in expectations/gx_duckdb.py against this GX version"
        )
    return registry


def is_duckdb_persisted_connection_enabled() -> bool:
    """Say whether GX keeps one persisted connection for DuckDB engines."""
    return DUCKDB_DIALECT in _registry()


def enable_duckdb_persisted_connection() -> None:
    """Register DuckDB among GX's persisted-connection dialects (idempotent)."""
    if is_duckdb_persisted_connection_enabled():
        return
    registry = (*_registry(), _DialectName(DUCKDB_DIALECT))
    setattr(sqlalchemy_execution_engine, _REGISTRY_NAME, registry)
    logger.info("registered %s as a GX persisted-connection dialect", DUCKDB_DIALECT)

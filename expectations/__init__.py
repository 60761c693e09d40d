"""The data-quality gate that stands between the dbt build and publication.

``expectations.suites`` declares one suite of checks per raw input and per
published mart, plus the settlement reconciliation, for a ``Scope``
(``expectations.checks``) whose thresholds come from ``gate.yml``
(``expectations.config``). ``expectations.gate.run_gate`` runs them with
Great Expectations on the DuckDB or PostgreSQL warehouse and returns a
``GateReport`` (``expectations.report``), whose verdict is publish, hold or
block; ``expectations.records`` keeps results and overrides in the
warehouse; ``expectations.catalog`` renders the check list of docs/gate.md;
``expectations.gx_duckdb`` holds the one shim GX needs on DuckDB. Nothing is
imported here, so importing the package stays cheap (GX takes seconds to
import).
"""

"""The data-quality gate that stands between the dbt build and publication.

``expectations.gate.run_gate`` runs the checks declared in
``expectations.suites`` with Great Expectations on the DuckDB or PostgreSQL
warehouse and returns a ``GateReport``; publication goes ahead only if the
report passed. ``expectations.gx_duckdb`` holds the one shim GX needs on
DuckDB. Nothing is imported here, so importing the package stays cheap (GX
takes seconds to import).
"""

"""dbt's `target`, for sqlfluff's jinja templater: models lint as on DuckDB.

A macro that writes different SQL per engine (`target.type`) is linted in
its DuckDB form; dbt itself never reads this file.
"""

type = "duckdb"

"""Stand-ins for dbt's cross-database macros, for sqlfluff's jinja templater.

sqlfluff lints the models without a dbt connection; these render each macro
as plain SQL of the same shape so the linter can parse the surrounding model.
dbt itself never reads this file.
"""


def dateadd(datepart: str, interval: object, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + interval '{interval} {datepart}')"


def date_trunc(datepart: str, date: str) -> str:
    return f"date_trunc('{datepart}', {date})"


def datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def listagg(
    measure: str,
    delimiter_text: str = "','",
    order_by_clause: str | None = None,
    limit_num: int | None = None,
) -> str:
    order = f" {order_by_clause}" if order_by_clause else ""
    return f"string_agg({measure}, {delimiter_text}{order})"

"""Stand-in for dbt's ``adapter.dispatch``, for sqlfluff's jinja templater.

Renders the dispatched macros this project defines as the DuckDB SQL they
produce, so the linter can parse the surrounding model.
"""

from collections.abc import Callable


def _whole_division(numerator: str, denominator: str) -> str:
    return f"(cast({numerator} as hugeint) // cast({denominator} as hugeint))"


_MACROS: dict[str, Callable[[str, str], str]] = {"whole_division": _whole_division}


def dispatch(macro_name: str) -> Callable[[str, str], str]:
    return _MACROS[macro_name]

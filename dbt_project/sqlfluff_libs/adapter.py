"""`adapter.dispatch` for sqlfluff's jinja templater: the `duckdb__` variant, else `default__`.

sqlfluff renders the models without dbt (`dbt_project/.sqlfluff`); the modules of this folder
stand in for the few dbt context members the project's macros call. dbt never reads them.
"""

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context, Undefined


@pass_context
def dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    for prefix in ("duckdb__", "default__"):
        macro = context.resolve(prefix + macro_name)
        if not isinstance(macro, Undefined):
            return macro
    raise LookupError(f"no duckdb__ or default__ variant of macro {macro_name}")

"""dbt-core's cross-database macros (`dbt.*`) for sqlfluff's jinja templater, as DuckDB SQL."""


def type_string() -> str:
    return "text"


def type_timestamp() -> str:
    return "timestamp"


def current_timestamp() -> str:
    return "current_timestamp"


def concat(fields: list[str]) -> str:
    return " || ".join(fields)


def dateadd(datepart: str, interval: object, from_date_or_timestamp: str) -> str:
    return f"({from_date_or_timestamp} + ({interval}) * interval '1 {datepart}')"


def datediff(first_date: str, second_date: str, datepart: str) -> str:
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart: str, date: str) -> str:
    return f"date_trunc('{datepart}', {date})"


def listagg(
    measure: str, delimiter_text: str = "','", order_by_clause: str = "", limit_num: object = None
) -> str:
    return f"string_agg({measure}, {delimiter_text} {order_by_clause})"


def default__get_where_subquery(relation: object) -> str:
    return str(relation)

"""dbt's `exceptions` context member for sqlfluff's jinja templater."""


def raise_compiler_error(message: str) -> None:
    raise ValueError(message)


def warn(message: str) -> str:
    return ""

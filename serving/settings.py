"""Reading the services' settings from the environment: one rule for empty values and numbers."""

from __future__ import annotations

from collections.abc import Mapping


def setting(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, stripped; None when it is unset or blank."""
    value = env.get(name, "").strip()
    return value or None


def positive_number(
    name: str, text: str, error: type[ValueError], *, integer: bool = False
) -> float:
    """`text` as a number above zero (a whole one when `integer`); else `error` naming `name`."""
    try:
        number = float(int(text)) if integer else float(text)
    except ValueError:
        number = 0.0
    if not number > 0:
        kind = "a positive whole number" if integer else "a positive number"
        raise error(f"{name} must be {kind}, got {text!r}")
    return number

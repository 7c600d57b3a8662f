"""Reading the services' settings from the environment: one rule for empty values and numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping


def setting(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, stripped; None when it is unset or blank."""
    value = env.get(name, "").strip()
    return value or None


def positive_number(
    name: str, text: str, error: type[ValueError], *, integer: bool = False, zero: bool = False
) -> float:
    """`text` as a number above zero (a whole one when `integer`; zero too when `zero`); else
    `error` naming `name`."""
    try:
        number = float(int(text)) if integer else float(text)
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and (number > 0 or (zero and number == 0))):
        number_kind = "whole number" if integer else "number"
        kind = f"a {number_kind} of 0 or more" if zero else f"a positive {number_kind}"
        raise error(f"{name} must be {kind}, got {text!r}")
    return number

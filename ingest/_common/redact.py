"""Remove credentials from anything that may reach a log, an error or the warehouse.

Meta puts the access token in the query string of every `paging.next` URL; a token may
also appear in an `Authorization`/`Access-Token` header or inside an exception message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"
SECRET_PARAMS = (
    "access_token",
    "appsecret_proof",
    "client_secret",
    "api_key",
    "token",
    "key",
    "password",
)
SECRET_HEADERS = frozenset({"authorization", "access-token", "stripe-account", "cookie"})

_PARAM_PATTERN = re.compile(
    r"(?P<name>(?<![A-Za-z_])(?:"
    + "|".join(SECRET_PARAMS)
    + r"))(?P<sep>=|%3D)(?P<value>[^&\s\"'#%]+)",
    re.IGNORECASE,
)
_BEARER_PATTERN = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")


class Redactor:
    """Replaces known secret values and secret-looking query parameters with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so that a secret containing another is removed whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        return Redactor([*self._secrets, *secrets])

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _PARAM_PATTERN.sub(lambda m: f"{m['name']}{m['sep']}{REDACTED}", text)
        return _BEARER_PATTERN.sub(lambda m: f"{m[1]} {REDACTED}", text)


def redact_secret_params(url: str) -> str:
    """`url` with secret query parameters (e.g. Meta's `access_token`) replaced by `***`."""
    return Redactor()(url)

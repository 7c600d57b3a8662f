"""The official `stripe` SDK (`StripeClient`) behind our retry loop.

The SDK's own retries are off (`max_network_retries=0`: it would sleep for real); our
`Retrier` retries 429s, connection errors, 5xx and whatever `Stripe-Should-Retry: true`
marks, on the injected clock. Each list call returns the page exactly as the API sent it
(`last_response.data`), so payloads are stored untouched (minor units, zero-decimal JPY).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

import stripe

from ingest._common.clock import Clock
from ingest._common.errors import ApiError, MalformedPage
from ingest._common.http import CircuitBreaker, Retrier, Retryable, RetryPolicy
from ingest._common.redact import Redactor
from ingest._common.validate import require
from ingest.stripe.settings import StripeConfig


def _should_retry(error: stripe.StripeError) -> bool | None:
    value = (error.headers or {}).get("stripe-should-retry") or (error.headers or {}).get(
        "Stripe-Should-Retry"
    )
    return None if value is None else value == "true"


def _retry_after(error: stripe.StripeError) -> float | None:
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    try:
        return float(headers["retry-after"]) if "retry-after" in headers else None
    except ValueError:
        return None


class StripeApi:
    def __init__(
        self,
        config: StripeConfig,
        *,
        clock: Clock,
        retry: RetryPolicy | None = None,
        http_client: stripe.HTTPClient | None = None,
    ) -> None:
        self.config = config
        key = config.api_key.reveal()
        self.client = stripe.StripeClient(
            key,
            base_addresses={"api": config.base_url} if config.base_url else None,
            max_network_retries=0,
            http_client=http_client or stripe.RequestsClient(timeout=config.timeout_seconds),
        )
        self.redact = Redactor([key])
        self.retrier = Retrier(
            "stripe",
            clock=clock,
            policy=retry or RetryPolicy(),
            breaker=CircuitBreaker(clock),
            redact=self.redact,
            rng=random.Random(),
            logger=logging.getLogger("ingest.stripe"),
        )

    def _call(self, what: str, call: Callable[[], Any]) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            try:
                listed = call()
            except stripe.RateLimitError as exc:
                if _should_retry(exc) is False:
                    raise ApiError(f"stripe: {what}: rate limited, not retryable") from None
                raise Retryable("HTTP 429", wait=_retry_after(exc), throttle=True) from None
            except stripe.APIConnectionError as exc:
                raise Retryable(f"connection error: {exc.user_message or exc}") from None
            except stripe.StripeError as exc:
                should = _should_retry(exc)
                status = exc.http_status or 0
                if should is True or (should is None and (status >= 500 or status == 409)):
                    raise Retryable(f"HTTP {status}: {exc.user_message}") from None
                raise ApiError(
                    f"stripe: {what}: HTTP {status}: {self.redact(str(exc.user_message))}"
                ) from None
            response = listed.last_response
            if response is None or not isinstance(response.data, dict):
                raise MalformedPage(what, "<body>", "is not a JSON object")
            return response.data

        return self.retrier.run(what, attempt)

    def list_page(self, stream: str, params: dict[str, Any], page: str) -> dict[str, Any]:
        service = getattr(self.client.v1, stream)
        return validate_list(self._call(page, lambda: service.list(params=params)), page)

    def invoice_lines_page(self, invoice: str, params: dict[str, Any], page: str) -> dict[str, Any]:
        service = self.client.v1.invoices.line_items
        return validate_list(
            self._call(page, lambda: service.list(invoice, params=params)),  # type: ignore[arg-type]
            page,
        )

    def subscription_items_page(self, params: dict[str, Any], page: str) -> dict[str, Any]:
        service = self.client.v1.subscription_items
        return validate_list(
            self._call(page, lambda: service.list(params=params)),  # type: ignore[arg-type]
            page,
        )


def validate_list(body: dict[str, Any], page: str) -> dict[str, Any]:
    """A Stripe list object: `data` a list of objects with ids, `has_more` a boolean."""
    if body.get("object") != "list":
        raise MalformedPage(page, "object", f"should be 'list', got {body.get('object')!r}")
    data = require(body, "data", list, page)
    require(body, "has_more", bool, page)
    for index, item in enumerate(data):
        require(item, "id", str, page, f"data[{index}]")
    return body

"""The HTTP client every connector uses (httpx underneath).

- timeouts on connect/read/write/pool;
- retries on connection errors, timeouts, 5xx
  and 429 (exponential, with jitter), honouring `Retry-After`;
- API-specific rules first: a connector's `check(response)` raises `Retryable(wait=…,
  throttle=True)` (Meta's HTTP 400 + code 17, TikTok's HTTP 200 + code 40100); a throttle
  wait is exactly what the API asked for and does not count as a failure;
- a circuit breaker that stops calling an API after consecutive failures;
- structured logs with every URL and message redacted;
- the clock (`now`, `sleep`) and the random source are injected, so tests never sleep.
"""

from __future__ import annotations

import email.utils
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from ingest._common.clock import Clock, SystemClock
from ingest._common.errors import (
    ApiError,
    CircuitOpen,
    MalformedPage,
    RateLimited,
    RetriesExhausted,
)
from ingest._common.logs import log_event
from ingest._common.redact import Redactor

DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
T = TypeVar("T")


class Retryable(Exception):
    """Raised by a response check: try again, after `wait` seconds if the API said so."""

    def __init__(self, reason: str, *, wait: float | None = None, throttle: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait
        self.throttle = throttle


ResponseCheck = Callable[[httpx.Response], None]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    `max_attempts` bounds failures (5xx, timeouts, connection errors) per request;
    `max_throttle_waits` bounds throttled answers per request; a single wait longer than
    `max_wait` seconds is not attempted (the run fails with `RateLimited` instead).
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_throttle_waits: int = 20
    max_wait: float = 2 * 3600.0

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Exponential backoff with jitter: uniform in [cap/2, cap], cap = base * 2^(n-1)."""
        cap = min(self.max_delay, self.base_delay * 2 ** max(failures - 1, 0))
        return cap / 2 + rng.uniform(0, cap / 2)


class CircuitBreaker:
    """Opens after `threshold` consecutive failures; while open, calls fail at once.

    After `cooldown` seconds one trial call is let through (half-open): success closes the
    circuit, failure opens it again.
    """

    def __init__(self, clock: Clock, *, threshold: int = 10, cooldown: float = 300.0) -> None:
        self._clock = clock
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self._opened_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def before_call(self, name: str) -> None:
        if self._opened_at is None:
            return
        remaining = self._opened_at + self.cooldown - self._clock.monotonic()
        if remaining > 0:
            raise CircuitOpen(
                f"{name}: circuit open after {self.failures} consecutive failures; "
                f"not calling again for {remaining:.0f}s"
            )
        self._opened_at = None  # half-open: let one call through
        self.failures = self.threshold - 1

    def record_success(self) -> None:
        self.failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self.failures += 1
        if self.failures >= self.threshold:
            self._opened_at = self._clock.monotonic()


def retry_after_seconds(response: httpx.Response, clock: Clock) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date), else None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - clock.now()).total_seconds())


def default_check(response: httpx.Response) -> None:
    """No API-specific rule: 429 and 5xx are retried, other 4xx raise `ApiError`."""


class Retrier:
    """The retry loop shared by every client (httpx here, the Stripe SDK in `ingest.stripe`).

    `attempt()` returns a result or raises `Retryable`; anything else propagates.
    Failures count towards `max_attempts` and the circuit breaker; throttles do not, and
    wait exactly what the API asked for (else a backoff).
    """

    def __init__(
        self,
        name: str,
        *,
        clock: Clock,
        policy: RetryPolicy,
        breaker: CircuitBreaker,
        redact: Redactor,
        rng: random.Random,
        logger: logging.Logger,
    ) -> None:
        self.name = name
        self.clock = clock
        self.policy = policy
        self.breaker = breaker
        self.redact = redact
        self.rng = rng
        self.log = logger

    def run(self, what: str, attempt: Callable[[], T]) -> T:
        failures = 0
        throttles = 0
        while True:
            self.breaker.before_call(self.name)
            try:
                result = attempt()
            except Retryable as exc:
                failure = exc
            else:
                self.breaker.record_success()
                return result
            reason = self.redact(failure.reason)
            if failure.throttle:
                throttles += 1
                if throttles > self.policy.max_throttle_waits:
                    raise RateLimited(
                        f"{self.name}: {what} still throttled after {throttles - 1} waits "
                        f"({reason})"
                    )
                delay = (
                    failure.wait
                    if failure.wait is not None
                    else self.policy.backoff(throttles, self.rng)
                )
            else:
                failures += 1
                self.breaker.record_failure()
                if failures >= self.policy.max_attempts:
                    raise RetriesExhausted(
                        f"{self.name}: {what} failed {failures} times, last: {reason}"
                    )
                delay = max(failure.wait or 0.0, self.policy.backoff(failures, self.rng))
            if delay > self.policy.max_wait:
                raise RateLimited(
                    f"{self.name}: asked to wait {delay:.0f}s, more than the "
                    f"{self.policy.max_wait:.0f}s allowed ({reason})"
                )
            log_event(
                self.log,
                logging.WARNING,
                "http.retry",
                self.redact,
                request=what,
                reason=reason,
                throttle=failure.throttle,
                wait_s=round(delay, 3),
            )
            self.clock.sleep(delay)


class HttpClient:
    """One API's HTTP client; `request` returns only a response its `check` accepted."""

    def __init__(
        self,
        name: str,
        *,
        headers: Mapping[str, str] | None = None,
        secrets: Sequence[str] = (),
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        rng: random.Random | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.name = name
        self.clock: Clock = clock or SystemClock()
        self.redact = Redactor(secrets)
        self._log = logger or logging.getLogger(f"ingest.{name}")
        self.retrier = Retrier(
            name,
            clock=self.clock,
            policy=retry or RetryPolicy(),
            breaker=breaker or CircuitBreaker(self.clock),
            redact=self.redact,
            rng=rng or random.Random(),
            logger=self._log,
        )
        self._client = httpx.Client(
            headers=dict(headers or {}), timeout=timeout, transport=transport
        )
        self.requests_sent = 0

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        check: ResponseCheck = default_check,
    ) -> httpx.Response:
        shown_url = self.redact(str(httpx.URL(url, params=params) if params else url))

        def attempt() -> httpx.Response:
            self.requests_sent += 1
            try:
                response = self._client.request(
                    method, url, params=params, json=json, headers=headers
                )
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                raise Retryable(f"{type(exc).__name__}: {exc}") from exc
            log_event(
                self._log,
                logging.DEBUG,
                "http.response",
                self.redact,
                method=method,
                url=shown_url,
                status=response.status_code,
            )
            check(response)
            if response.status_code == 429:
                raise Retryable(
                    "HTTP 429", wait=retry_after_seconds(response, self.clock), throttle=True
                )
            if response.status_code >= 500:
                raise Retryable(
                    f"HTTP {response.status_code}",
                    wait=retry_after_seconds(response, self.clock),
                )
            if response.status_code >= 400:
                raise ApiError(
                    f"{self.name}: HTTP {response.status_code} from {shown_url}: "
                    f"{self.redact(response.text[:300])}"
                )
            return response

        return self.retrier.run(f"{method} {shown_url}", attempt)

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        check: ResponseCheck = default_check,
    ) -> Any:
        response = self.request("GET", url, params=params, headers=headers, check=check)
        return decode_json(response, self.redact(str(response.request.url)))


def decode_json(response: httpx.Response, where: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedPage(where, "<body>", f"is not JSON ({exc})") from exc

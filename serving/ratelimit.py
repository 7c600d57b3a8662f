"""Per-key token buckets: `rate` tokens per second, bursts of `burst` tokens.

The collector spends one token per message, the read API one per request.
"""

from __future__ import annotations

import math
import threading
import time


class TokenBuckets:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(rate * 10, 1.0)
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key_id: str, count: int = 1) -> float:
        """Take `count` tokens; 0.0 if granted, else the seconds to wait before retrying."""
        count = min(count, int(self.burst))
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= count:
                self._buckets[key_id] = (tokens - count, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (count - tokens) / self.rate


def retry_after_header(wait: float) -> str:
    return str(max(1, math.ceil(wait)))

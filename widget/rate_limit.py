"""A rate limit per key (session, IP address), shared by the widget server and the web channel (stdlib only)."""

from __future__ import annotations

import time
from collections import OrderedDict

KEYS_TRACKED = 20_000


class RateLimit:
    """At most `per_minute` events per key, in bursts of up to `burst` (a token bucket per key)."""

    def __init__(self, per_minute: int, burst: int | None = None, keys: int = KEYS_TRACKED) -> None:
        self.per_second = per_minute / 60.0
        self.burst = float(min(burst or per_minute, per_minute))
        self._keys = keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._limited: set[str] = set()

    def allow(self, key: str, now: float | None = None) -> tuple[bool, bool]:
        """(allowed, first refusal of a streak): a refused event takes nothing from the bucket."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_second)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self._keys:
            forgotten, _ = self._buckets.popitem(last=False)
            self._limited.discard(forgotten)
        if allowed:
            self._limited.discard(key)
            return True, False
        first = key not in self._limited
        self._limited.add(key)
        return False, first

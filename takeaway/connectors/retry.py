"""Retries for vendor calls: 429 waits for Retry-After, 5xx and timeouts back off exponentially."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from takeaway.connectors.base import TrackerError

log = logging.getLogger("takeaway.connectors")
T = TypeVar("T")


def with_retry(call: Callable[[], T], *, what: str = "call", attempts: int = 5, base_delay: float = 0.5,
               max_delay: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `call`; a retryable TrackerError is retried up to `attempts` times in all, others raise at once."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except TrackerError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = exc.retry_after if exc.retry_after is not None else base_delay * 2 ** (attempt - 1)
            delay = min(delay, max_delay)
            log.warning("%s failed (%s); retry %d/%d in %.1f s", what, exc, attempt, attempts - 1, delay)
            sleep(delay)
    raise AssertionError("unreachable")

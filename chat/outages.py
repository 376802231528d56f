"""Fail fast while a store is away: a circuit breaker per store (the channel layer, presence,
rate limits, the access cache), so that a Redis that stopped answering costs each socket one
timeout, not one per frame, and the frames queued behind it are not held for seconds each."""

import logging
import time

logger = logging.getLogger(__name__)


class Breaker:
    """Whether to call a store now: after a failure, not for `cooldown` seconds (monotonic
    clock); then one call tries again. `what` names the store in the log, once per outage."""

    def __init__(self, what: str, cooldown: float = 2.0):
        self.what, self.cooldown = what, cooldown
        self.open_until = 0.0
        self.failing = False

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def failed(self, error: BaseException) -> None:
        self.open_until = time.monotonic() + self.cooldown
        if not self.failing:
            logger.warning("%s away, going on without it: %r", self.what, error)
        self.failing = True

    def reset(self) -> None:
        """Forget any failure: the next call tries (for tests that simulate an outage)."""
        self.open_until, self.failing = 0.0, False

    def succeeded(self) -> None:
        if self.failing:
            logger.warning("%s back", self.what)
        self.failing = False

"""Failed authentications per client address, counted in fixed windows, in a bounded table.

``limit`` failures in ``window`` seconds block the address until its window ends; at most
``clients`` addresses are tracked (the least recently failing is forgotten first), so a flood
from many addresses costs bounded memory. The clock is monotonic and an argument.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class FailureThrottle:
    def __init__(
        self,
        limit: int,
        window: float,
        clients: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1 or window <= 0 or clients < 1:
            raise ValueError("limit, window and clients must be positive")
        self.limit = limit
        self.window = window
        self.clients = clients
        self.clock = clock
        self._failures: OrderedDict[str, tuple[float, int]] = OrderedDict()  # start, count
        self._lock = threading.Lock()

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until ``address`` may try again, or None when it may now."""
        now = self.clock()
        with self._lock:
            found = self._failures.get(address)
            if found is None:
                return None
            start, count = found
            if now - start >= self.window:
                del self._failures[address]
                return None
            if count < self.limit:
                return None
            return max(1, math.ceil(start + self.window - now))

    def failed(self, address: str) -> None:
        now = self.clock()
        with self._lock:
            start, count = self._failures.pop(address, (now, 0))
            if now - start >= self.window:
                start, count = now, 0
            self._failures[address] = (start, count + 1)
            while len(self._failures) > self.clients:
                self._failures.popitem(last=False)

    def forgive(self, address: str) -> None:
        """Take back one failure (an attempt counted before it was checked, that succeeded)."""
        with self._lock:
            found = self._failures.get(address)
            if found is not None:
                start, count = found
                if count <= 1:
                    del self._failures[address]
                else:
                    self._failures[address] = (start, count - 1)

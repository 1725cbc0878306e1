"""Wake-ups of one server process's feed subscribers.

The feed's truth is the store (``accord.service.feed``); a wake-up only says "look now". The
recorder calls ``from_thread`` inside the act's transaction, in a worker thread; the wake-up is
handed to the event loop, and a woken subscriber reads through the same worker lock, so it reads
after the act's commit. ``forward`` (the NATS bridge, when there is one) hears every local
wake-up, to pass on to the other processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from accord.model.feed import user_tag


class FeedHub:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._tags: dict[str, str] = {}
        self.forward: Callable[[frozenset[str]], None] | None = None

    def subscribe(self, user: str) -> asyncio.Event:
        """An event set whenever ``user``'s feed may have grown (call on the loop)."""
        self._loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        self._waiting.setdefault(user, set()).add(wake)
        self._tags[user_tag(user)] = user
        return wake

    def unsubscribe(self, user: str, wake: asyncio.Event) -> None:
        waiting = self._waiting.get(user)
        if waiting is None:
            return
        waiting.discard(wake)
        if not waiting:
            del self._waiting[user]
            self._tags.pop(user_tag(user), None)

    @property
    def subscribers(self) -> int:
        return sum(len(w) for w in self._waiting.values())

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def from_thread(self, users: frozenset[str]) -> None:
        """From a worker thread: wake ``users``' subscribers on the loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._local, users)

    def _local(self, users: frozenset[str]) -> None:
        self.wake(users)
        if self.forward is not None:
            self.forward(users)

    def wake(self, users: Iterable[str]) -> None:
        for user in users:
            for wake in self._waiting.get(user, ()):
                wake.set()

    def wake_tags(self, tags: Iterable[str]) -> None:
        """Wake the subscribers of the users these tags name (a wake-up from another process)."""
        self.wake(self._tags[t] for t in tags if t in self._tags)

"""Helpers for the node tests: node stores on SQLite files, free loopback ports, a recording
message handler, and whole-store dumps to compare before and after a refused input."""

from __future__ import annotations

import socket
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord.crypto import MasterKey
from accord.service import Exchange
from accord.service.node import Node


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Made:
    party: str
    db: Path
    key_file: Path
    master: MasterKey
    port: int
    node: Node

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


def make_node(folder: Path, party: str, port: int | None = None) -> Made:
    """A new node store for ``party`` in ``folder`` (its key in a file beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    master = MasterKey.generate()
    key_file = folder / f"{party.lower()}.key"
    master.write(key_file)
    db = folder / f"{party.lower()}.db"
    exchange = Exchange.open(f"sqlite:///{db}", master=lambda: master)
    node = Node(exchange)
    chosen = port or free_port()
    node.init(party, f"https://127.0.0.1:{chosen}")
    return Made(party, db, key_file, master, chosen, node)


def reopen(made: Made) -> Node:
    """A fresh process's view of the same store (nothing cached)."""
    master = made.master
    return Node(Exchange.open(f"sqlite:///{made.db}", master=lambda: master, create=False))


def dump(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: two dumps are equal only if nothing changed."""
    with closing(sqlite3.connect(db)) as conn:
        names = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
        return {n: sorted(conn.execute(f'select * from "{n}"').fetchall(), key=repr) for n in names}


@dataclass
class Recorder:
    """A real message handler: it keeps what arrived and answers with a fixed body."""

    answer: bytes = b"received"
    arrived: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, party: str, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.arrived.append((party, body))
        return 200, self.answer

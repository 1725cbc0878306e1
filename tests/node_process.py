"""One node as a process of its own, for the SIGKILL tests (``python -m tests.node_process``).

receive DB KEY_FILE PORT KOR_VERIFIER JPN_VERIFIER
    JPN's node: serves its message endpoint on 127.0.0.1:PORT until killed.
send DB KEY_FILE URL COUNT KOR_VERIFIER JPN_VERIFIER
    KOR's node: queues COUNT notes for JPN (again: nothing changes) and delivers them one
    per message until none waits; exits 0, or 3 after 120 s.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from accord.model.messages import DeliveryOutcome, PeerKeys
from accord.service import Exchange, MasterKey
from accord.service.deliverer import Deliverer
from accord.service.node_settings import ChannelTransport, NodeIdentity, NodeSettings
from accord.service.receiver import Receiver
from accord.store import outbox
from tests.node_http import HttpPoster, serve
from tests.node_kit import T0, note, seed_key, vouched_by

KOR, JPN = "KOR", "JPN"
DEADLINE = 120.0


def _directory(kor_verifier: str, jpn_verifier: str) -> dict[str, PeerKeys]:
    return {
        party: PeerKeys(party, seed_key(party).public_key().public_bytes_raw(), verifier)
        for party, verifier in ((KOR, kor_verifier), (JPN, jpn_verifier))
    }


def _exchange(db: str, key_file: str) -> Exchange:
    master = MasterKey.from_file(Path(key_file))
    return Exchange.open(f"sqlite:///{db}", master=lambda: master, create=False)


def receive(db: str, key_file: str, port: str, kor_v: str, jpn_v: str) -> int:
    keys = _directory(kor_v, jpn_v)
    receiver = Receiver(
        _exchange(db, key_file), NodeIdentity(JPN, seed_key(JPN)), keys.get, vouched_by
    )
    serve(receiver.handle, int(port))
    print("ready", flush=True)
    while True:
        time.sleep(1)


def send(db: str, key_file: str, url: str, count: str, kor_v: str, jpn_v: str) -> int:
    keys = _directory(kor_v, jpn_v)
    exchange = _exchange(db, key_file)
    transport = ChannelTransport({JPN: HttpPoster(url, KOR)}.__getitem__, timeout=5.0)
    deliverer = Deliverer(
        exchange, NodeIdentity(KOR, seed_key(KOR)), keys.get, transport, NodeSettings(batch=1)
    )
    with exchange.store.transaction(write=True) as tx:
        for n in range(int(count)):
            outbox.enqueue(tx, JPN, note(KOR, n, T0 + timedelta(microseconds=n)), datetime.now(UTC))
    started = time.monotonic()
    while time.monotonic() - started < DEADLINE:
        outcome = deliverer.deliver(JPN, datetime.now(UTC)).outcome
        if outcome is DeliveryOutcome.IDLE:
            return 0
        if outcome is not DeliveryOutcome.DELIVERED:
            time.sleep(0.05)
    return 3


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    sys.exit({"receive": receive, "send": send}[command](*args))

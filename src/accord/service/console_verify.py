"""``audit verify`` run for the console in a background thread, its progress readable meanwhile.

One run at a time per console; a second start while one runs returns the running one. The last
result (the report, or the integrity failure's message naming the entry or row) is kept until
the next run.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from accord.errors import AccordError
from accord.service.exchange import Exchange

log = logging.getLogger("accord.console")


@dataclass
class VerifyJob:
    running: bool = False
    stage: str = ""
    done: int = 0
    total: int | None = None
    result: dict[str, object] | None = None
    failure: str | None = None
    runs: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, object]:
        with self._lock:
            return {
                "running": self.running,
                "stage": self.stage,
                "done": self.done,
                "total": self.total,
                "result": self.result,
                "failure": self.failure,
                "runs": self.runs,
            }

    def _progress(self, stage: str, done: int, total: int | None) -> None:
        with self._lock:
            self.stage, self.done, self.total = stage, done, total


class Verifier:
    """Runs ``Exchange.audit_verify`` under the exchange's lock in its own thread."""

    def __init__(self, exchange: Exchange, lock: threading.RLock) -> None:
        self.exchange = exchange
        self.lock = lock
        self.job = VerifyJob()
        self._thread: threading.Thread | None = None

    def start(self) -> VerifyJob:
        with self.job._lock:
            if self.job.running:
                return self.job
            self.job.running, self.job.stage, self.job.done, self.job.total = True, "", 0, None
            self.job.result = self.job.failure = None
            self.job.runs += 1
        self._thread = threading.Thread(target=self._run, name="console-audit-verify", daemon=True)
        self._thread.start()
        return self.job

    def wait(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        result: dict[str, object] | None = None
        failure: str | None = None
        try:
            with self.lock:
                result = self.exchange.audit_verify(progress=self.job._progress).as_dict()
        except AccordError as error:
            failure = error.message
        except Exception:  # a defect: logged here; the browser is told only that it failed
            log.exception("console audit verify failed")
            failure = "the verification could not run"
        with self.job._lock:
            self.job.running, self.job.result, self.job.failure = False, result, failure

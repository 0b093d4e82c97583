"""Worker threads: work through the inbox and the outbox; woken at once, with a slow poll as a net."""

from __future__ import annotations

import logging
import queue
import threading

log = logging.getLogger("carertext.worker")


class Dispatcher:
    """Runs the inbox and outbox loops in background threads of this process."""

    def __init__(self, services, threads: int = 2, poll_seconds: float = 1.0):
        self.services = services
        self.threads = threads
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        # Carers whose message was just stored here: handled first, without scanning the inbox.
        self._hints: queue.SimpleQueue[int] = queue.SimpleQueue()
        services.wake = self.wake

    def wake(self, carer_id: int | None = None) -> None:
        """A message was stored: wake a worker, pointing it at the carer when known."""
        if carer_id is not None:
            self._hints.put(carer_id)
        self._wake.set()

    def start(self) -> "Dispatcher":
        for n in range(self.threads):
            t = threading.Thread(target=self._run, name=f"carertext-worker-{n}", daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for t in self._workers:
            t.join(timeout)
        self.services.wake = None

    def run_once(self) -> int:
        """One pass over the inbox and the outbox; returns how much was done."""
        done = 0
        while True:
            try:
                carer_id = self._hints.get_nowait()
            except queue.Empty:
                break
            done += self.services.conversations.process_leased(carer_id)
        done += self.services.conversations.process_due()
        done += self.services.outbox.send_due()
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the pass, so a message stored during it wakes the next one
            try:
                if self.run_once():
                    continue
            except Exception:  # a worker must survive a bad moment (database restart, say)
                log.exception("worker pass failed; retrying")
                self._stop.wait(1.0)
            self._wake.wait(self.poll_seconds)

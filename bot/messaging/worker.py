"""Worker threads: work through the inbox and the outbox; woken at once, with a slow poll as a net."""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from bot.messaging.inbox import Claim
from bot.services import Services
from bot.timing.clock import as_utc
from bot.models import Direction, Message, MessageState, UNHANDLED

log = logging.getLogger("carertext.worker")


_STOP = -1


class Dispatcher:
    """Runs the inbox and outbox loops in background threads of this process."""

    def __init__(self, services: Services, threads: int = 2, poll_seconds: float = 1.0):
        self.services = services
        self.threads = threads
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []
        # Carers whose message was just stored here. A hint wakes exactly one thread, which goes
        # straight to that carer: no inbox scan and no polling interval on the reply path.
        self._hints: queue.SimpleQueue[tuple[int | None, Claim | None]] = queue.SimpleQueue()

    def wake(self, carer_id: int | None = None, claim: Claim | None = None) -> None:
        """A message was stored: wake one worker, pointing it at the carer (and the hand-over) when known."""
        self._hints.put((carer_id, claim))
        if claim is not None:
            # Let the woken worker have the interpreter now: the carer's message reaches Rasa about 1 ms
            # sooner here, and Twilio's empty answer, which nobody waits on, half a millisecond later.
            time.sleep(0)

    def start(self) -> "Dispatcher":
        # Only running threads take hints: a hand-over left in a queue nobody reads would hold its carer.
        self.services.wake = self.wake
        for n in range(self.threads):
            t = threading.Thread(target=self._run, args=((n, self.threads),), name=f"carertext-worker-{n}",
                                 daemon=True)
            t.start()
            self._workers.append(t)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for _ in self._workers:
            self._hints.put((_STOP, None))
        for t in self._workers:
            t.join(timeout)
        self.services.wake = None

    def run_once(self, share: tuple[int, int] = (0, 1)) -> int:
        """One pass over the inbox and the outbox (this worker's share of its sends); returns how much was done."""
        done = 0
        while True:
            try:
                carer_id, claim = self._hints.get_nowait()
            except queue.Empty:
                break
            if carer_id is not None and carer_id != _STOP:
                done += self.handle_hint(carer_id, claim)
        done += self.services.conversations.process_due()
        done += self.services.outbox.send_due(interrupted=lambda: not self._hints.empty(), share=share)
        return done

    def handle_hint(self, carer_id: int, claim: Claim | None = None) -> int:
        """Handle a carer's new message; if another thread holds the carer, it picks the message up."""
        conversations = self.services.conversations
        for _ in range(3):
            done = conversations.process_leased(carer_id, claim)
            claim = None  # a hand-over is used once; after it, the lease is taken the usual way
            if done or not conversations.leased_elsewhere(carer_id):
                return done
            # The holder may be just finishing its loop; a moment later the lease is free.
            self._stop.wait(0.02)
        return 0

    def _run(self, share: tuple[int, int]) -> None:
        deadline = time.monotonic() + self.poll_seconds
        while not self._stop.is_set():
            try:
                carer_id, claim = self._hints.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                carer_id, claim = None, None
            if carer_id == _STOP:
                return
            try:
                if carer_id is not None:
                    self.handle_hint(carer_id, claim)  # then back to the same wait: no extra query per reply
                else:
                    while self.run_once(share) and not self._stop.is_set():
                        pass
                    deadline = time.monotonic() + self._idle_wait()
            except Exception:  # a worker must survive a bad moment (database restart, say)
                log.exception("worker pass failed; retrying")
                deadline = time.monotonic() + self.poll_seconds
                self._stop.wait(1.0)

    def _idle_wait(self) -> float:
        """Sleep until the next paced or retried message (in or out) falls due, at most the poll interval.

        Broadcast messages are queued 1/R apart: a worker that slept the full poll would send them late
        and in clumps, well under the rate the council set."""
        moments = [as_utc(m) for m in (self._next_due_at(), self.services.outbox.waits_until()) if m is not None]
        if not moments:
            return self.poll_seconds
        seconds = (min(moments) - self.services.clock.now()).total_seconds()
        return min(self.poll_seconds, max(0.002, seconds))

    def _next_due_at(self) -> datetime | None:
        """When the next waiting message falls due, if in the future: outbound (a paced broadcast slot, a
        retry) or inbound (a flood's place in the queue, a wait for Rasa)."""
        now = self.services.clock.now()
        with self.services.db.session() as session:
            return session.scalar(
                select(func.min(Message.next_attempt_at))
                .where(or_(and_(Message.direction == Direction.OUT, Message.state == MessageState.PENDING),
                           and_(Message.direction == Direction.IN, Message.state.in_(UNHANDLED))),
                       Message.next_attempt_at > now))

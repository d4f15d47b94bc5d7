"""Small asyncio helpers for network backends: a sync iterator over an event loop run in a
background thread, a requests/tokens-per-minute limiter, and Retry-After parsing."""

from __future__ import annotations

import asyncio
import email.utils
import queue
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

_DONE = object()


class _Raise:
    def __init__(self, exc: BaseException):
        self.exc = exc


def run_in_thread(make: Callable[[Callable[[Any], None]], Awaitable[None]]) -> Iterator[list[Any]]:
    """Run `make(emit)` on a fresh event loop in a background thread; yield what it emits, as
    lists of everything emitted since the last yield (one list per wake-up of the caller).

    A thread (not asyncio.run here) so that a sync caller inside a running loop (a notebook, an
    async server) works too. Closing the iterator early cancels the job; an exception raised by
    the job is re-raised in the caller. Lists, because each time the caller blocks it must win
    the GIL back from the busy loop thread (up to a 5 ms switch interval): a consumer that
    blocks once per item (a SQLite commit per Result) would cap the job at a few hundred items/s.
    """
    q: queue.SimpleQueue = queue.SimpleQueue()
    started = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        box["loop"], box["task"] = asyncio.get_running_loop(), asyncio.current_task()
        started.set()
        await make(q.put)

    def runner() -> None:
        try:
            asyncio.run(main())
        except asyncio.CancelledError:
            pass
        except BaseException as e:  # re-raised in the consumer's thread
            q.put(_Raise(e))
        finally:
            started.set()
            q.put(_DONE)

    t = threading.Thread(target=runner, name="llm-loop", daemon=True)
    t.start()
    try:
        done = False
        while not done:
            batch, item = [], q.get()
            while True:
                if item is _DONE:
                    done = True
                    break
                if isinstance(item, _Raise):
                    if batch:
                        yield batch
                    raise item.exc
                batch.append(item)
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
            if batch:
                yield batch
    finally:
        started.wait()
        if t.is_alive() and "loop" in box:
            try:
                box["loop"].call_soon_threadsafe(box["task"].cancel)
            except RuntimeError:  # loop already closed
                pass
        t.join()


class RateLimiter:
    """At most `per_minute` units a minute, with a one-second burst (GCRA, single event loop).

    A cost larger than the burst simply waits its share, so one big request never deadlocks.
    """

    def __init__(self, per_minute: float):
        if per_minute <= 0:
            raise ValueError(f"rate limit must be > 0 per minute, got {per_minute}")
        self.rate = per_minute / 60.0
        self.burst = 1.0  # seconds of credit
        self._tat = 0.0  # theoretical arrival time of the next unit

    async def acquire(self, cost: float = 1.0) -> None:
        now = time.monotonic()
        self._tat = max(self._tat, now)
        wait = self._tat - self.burst - now
        self._tat += cost / self.rate
        if wait > 0:
            await asyncio.sleep(wait)


def parse_retry_after(headers: Any, cap: float = 600.0) -> float | None:
    """Seconds to wait from `retry-after-ms` or `Retry-After` (seconds or an HTTP date)."""
    if headers is None:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return min(max(float(ms) / 1000, 0.0), cap)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            secs = float(value)
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            secs = when.timestamp() - time.time()
        return min(max(secs, 0.0), cap)
    except (TypeError, ValueError, OverflowError):
        return None

"""Batching for `metamath serve`: concurrent HTTP requests gathered by one worker thread into
a single `generate()` call (up to `max_batch` requests, waiting at most `batch_wait_s` for
more), so 64 requests at once make one batch of 64 on the GPU rather than 64 batches of one.
The model is only ever touched by that worker thread."""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

from metamath.llm.base import LLM, Request, Result


class Batcher:
    """One worker thread that runs queued Requests through `llm.generate` in batches."""

    def __init__(self, llm: LLM, max_batch: int = 256, batch_wait_s: float = 0.01):
        self.llm, self.max_batch, self.batch_wait_s = llm, max_batch, batch_wait_s
        self._queue: queue.Queue[tuple[Request, Future] | None] = queue.Queue()
        self._thread = threading.Thread(
            target=self._loop, name="metamath-serve-batcher", daemon=True
        )
        self._thread.start()

    def submit(self, request: Request) -> Future:
        fut: Future = Future()
        self._queue.put((request, fut))
        return fut

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            deadline = time.monotonic() + self.batch_wait_s
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(nxt)
            waiting = {req.id: (req, fut) for req, fut in batch}
            try:
                for res in self.llm.generate([req for req, _ in batch]):
                    waiting.pop(res.request.id)[1].set_result(res)
            except Exception as e:  # the engine failed as a whole: fail this batch, keep serving
                for _, fut in waiting.values():
                    fut.set_exception(e)
                continue
            for req, fut in waiting.values():  # an engine that dropped a request
                fut.set_result(Result(req, error="no result from the engine"))

"""A tqdm progress bar for generation jobs, shared by every backend.

    with Progress(total=len(requests), desc="answer_aug") as bar:
        bar.sent()                       # one request went to the engine/server
        bar.tokens(prompt=120, completion=300)
        bar.retry(); bar.failure()
        bar.done(samples=4)              # one Result finished

The bar counts finished Results; its postfix shows requests/s, tokens/s (prompt + completion),
retries and failures, recomputed at most every `every` seconds so a fast loop pays ~nothing.
"""

from __future__ import annotations

import time
from typing import Any


class Progress:
    def __init__(
        self,
        total: int | None,
        desc: str = "generate",
        enabled: bool | None = None,
        every: float = 0.5,
        **tqdm_kwargs: Any,
    ):
        # enabled=None follows tqdm: shown on a terminal, silent in pipes and CI logs.
        self._bar = None
        if enabled is not False and total != 0:
            from metamath.progress import WarmupBar

            # the first result carries loading/compiling: the ETA is measured after it
            self._bar = WarmupBar(
                total=total,
                desc=desc,
                unit="req",
                dynamic_ncols=True,
                disable=None if enabled is None else False,
                **tqdm_kwargs,
            )
        self.requests = self.prompt_tokens = self.completion_tokens = 0
        self.retries = self.failures = self.samples = self.results = 0
        self._t0 = time.monotonic()
        self._every, self._next = every, 0.0

    def sent(self, n: int = 1) -> None:
        self.requests += n

    def tokens(self, prompt: int = 0, completion: int = 0) -> None:
        self.prompt_tokens += prompt
        self.completion_tokens += completion

    def retry(self, n: int = 1) -> None:
        self.retries += n

    def failure(self, n: int = 1) -> None:
        self.failures += n

    def done(self, n: int = 1, samples: int = 0) -> None:
        self.results += n
        self.samples += samples
        if self._bar is None:
            return
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self._every
            self._bar.set_postfix_str(self.postfix(now), refresh=False)
        self._bar.update(n)

    def postfix(self, now: float | None = None) -> str:
        dt = max((now or time.monotonic()) - self._t0, 1e-9)
        tok = self.prompt_tokens + self.completion_tokens
        return (
            f"{self.requests / dt:.1f} req/s, {tok / dt:,.0f} tok/s, "
            f"retries={self.retries}, failed={self.failures}"
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(self.postfix(), refresh=True)
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""Progress bars whose time estimate is not dominated by the first item.

    with bar(total=len(problems), desc="eval gsm8k", unit="problem") as b:
        for ...:
            b.update(1)

The first item of a long job carries the one-off costs (loading weights, compiling kernels,
warming caches): on a 2-core CPU one evaluation batch took 77 s, most of it the first, and a
plain tqdm bar extrapolated 14 minutes from it. WarmupBar keeps counting from the start
(elapsed time includes the warm-up) but measures its rate, and so its ETA, only from the work
after the first `warmup` items; until a rate is known it shows "?" rather than a guess.
"""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm


class WarmupBar(tqdm):
    """tqdm with the first `warmup` items left out of the rate (and the ETA)."""

    def __init__(self, *args: Any, warmup: int = 1, **kwargs: Any):
        self._warm_left = warmup
        self._warm_s = 0.0
        super().__init__(*args, **kwargs)
        # tqdm's close() sets `disable` before its last display: remember whether it was shown
        self._shown = not self.disable
        self._start_n = self.n  # a resumed job's items done before this run

    def update(self, n: float = 1) -> bool | None:
        if self.disable or self._warm_left <= 0:
            return super().update(n)
        self._warm_left -= n
        if self._warm_left > 0:
            self.n += n  # still warming up: count, no rate sample
            return None
        done = self.n + n
        self._warm_s += self._time() - self.start_t
        # reset() is tqdm's public way to restart the clock and the rate's moving averages;
        # the items done so far become the bar's `initial` (not counted in the rate).
        self.reset(total=self.total)
        self.n = self.initial = self.last_print_n = done
        self.refresh()
        return True

    @property
    def format_dict(self) -> dict[str, Any]:
        d = super().format_dict
        if not getattr(self, "_shown", True) or d.get("elapsed") is None:
            return d
        after = d["elapsed"]  # since the warm-up ended (tqdm's clock was reset then)
        d["elapsed"] = after + self._warm_s  # the time shown is the whole job's
        if self.total and self.n >= self.total:  # done: the whole job's average rate
            d["rate"] = (self.n - self._start_n) / d["elapsed"] if d["elapsed"] else None
        elif not d["rate"]:
            # no moving average yet: the rate since the warm-up once there is a second of it,
            # else unknown (tqdm shows "?"; it would divide by the time including the warm-up)
            measured = self._warm_left <= 0 and after >= 1.0 and self.n > self.initial
            d["rate"] = (self.n - self.initial) / after if measured else None
            d["initial"] = d["initial"] if measured else self.n
        return d

    @property
    def warmup_s(self) -> float:
        """Seconds the warm-up items took (0 until they are done)."""
        return self._warm_s


def bar(total: int | None, desc: str, unit: str = "it", enabled: bool = True, **kw: Any) -> tqdm:
    """A WarmupBar, or a disabled one (same interface) when not enabled."""
    return WarmupBar(total=total, desc=desc, unit=unit, disable=not enabled, **kw)

"""Progress bars: the ETA is measured after the warm-up item, not extrapolated from it."""

from __future__ import annotations

import io

from tqdm import tqdm

from metamath.progress import WarmupBar


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _run(cls, clock: Clock, steps: list[float], total: int = 100, mininterval: float = 0):
    """Feed one item per entry of `steps` (seconds it took); return the bar's format_dict."""
    b = cls(total=total, file=io.StringIO(), mininterval=mininterval, miniters=1)
    b._time = clock  # the bar's clock (tqdm reads time through this attribute)
    b.start_t = b.last_print_t = clock()
    for dt in steps:
        clock.t += dt
        b.update(1)
    d = b.format_dict
    b.close()
    return d


def _eta(d) -> float:
    return (d["total"] - d["n"]) / d["rate"]


def test_first_item_loading_does_not_set_the_eta():
    # the case: the first item carries 77 s of loading/compiling, then 1 s per item
    steps = [77.0] + [1.0] * 9
    plain = _run(tqdm, Clock(), steps)
    warm = _run(WarmupBar, Clock(), steps)
    assert warm["n"] == plain["n"] == 10
    assert warm["elapsed"] == plain["elapsed"] == 86.0  # the time shown is the whole job's
    assert abs(_eta(warm) - 90.0) < 1e-6  # 90 items left at the measured 1 s each
    assert _eta(plain) > 1.9 * 90.0  # the plain bar still counts the first item in
    # two items after the warm-up: ours says 97 s, a plain bar half an hour
    early = [77.0, 1.0, 1.0]
    assert abs(_eta(_run(WarmupBar, Clock(), early)) - 97.0) < 1e-6
    assert _eta(_run(tqdm, Clock(), early)) > 15 * 97.0


def test_no_rate_until_an_item_after_the_warmup():
    d = _run(WarmupBar, Clock(), [60.0])
    assert d["n"] == 1 and d["elapsed"] == 60.0
    assert not d["rate"] and d["initial"] == d["n"]  # tqdm shows "?", not 60 s per item
    # a burst right after the warm-up (one batch's results): still unknown, not 1000/s
    d = _run(WarmupBar, Clock(), [60.0, 0.001, 0.001], mininterval=0.1)  # tqdm's default
    assert not d["rate"] and "?" in tqdm.format_meter(**{**d, "elapsed": 60.002})


def test_a_finished_bar_shows_the_whole_jobs_average():
    d = _run(WarmupBar, Clock(), [15.0, 0.0, 0.0, 0.0], total=4)
    assert d["rate"] == 4 / 15.0  # 3.75 s per item, warm-up included, as the job really took


def test_the_last_line_printed_at_close_shows_the_whole_jobs_time_and_rate():
    # tqdm's close() sets `disable` before its final display; that line must still be ours
    out, clock = io.StringIO(), Clock()
    b = WarmupBar(total=4, file=out, mininterval=0, miniters=1)
    b._time = clock
    b.start_t = b.last_print_t = clock()
    clock.t += 16.0
    b.update(1)  # the warm-up item (a batch's first result)
    b.update(3)  # the rest of the batch at once
    b.close()
    last = out.getvalue().rstrip().split("\r")[-1]
    assert "4/4 [00:16<00:00,  4.00s/it]" in last or "0.25it/s" in last, last


def test_disabled_and_multi_item_updates():
    b = WarmupBar(total=10, disable=True)
    b.update(3)
    assert b.n == 0  # disabled bars count nothing, as tqdm's
    clock = Clock()
    b = WarmupBar(total=64, file=io.StringIO(), mininterval=0, miniters=1, warmup=8)
    b._time = clock
    b.start_t = b.last_print_t = clock()
    clock.t += 30
    b.update(8)  # a first batch of 8 results ends the warm-up
    clock.t += 8
    b.update(8)
    assert b.n == 16 and abs(b.format_dict["rate"] - 1.0) < 1e-9
    assert b.warmup_s == 30
    b.close()

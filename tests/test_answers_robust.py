"""Adversarial completions and the timeout: code is never run, nothing hangs past the timeout,
every case ends as a recorded reason; the symbolic worker works from threads and process pools."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import time

import pytest

from metamath.answers import grade, is_equiv
from metamath.answers.boxed import all_boxed, last_boxed
from metamath.answers.symbolic import POOL, guard, symbolic_equiv

REASONS = {"correct", "mismatch", "no_answer", "timeout", "error", "too_long"}
# sympy needs several seconds on this pair (an equation with tan): math-verify only, no fast path
SLOW_PAIR = (r"\tan \theta = 3\theta", r"\tan \theta = 2\theta")


def _payloads(marker: str) -> list[str]:
    code = f"__import__('os').system('touch {marker}')"
    return [
        f"The answer is: \\boxed{{{code}}}",
        f"So $\\boxed{{{code}}}$.",
        f"The answer is: {code}",
        f"The answer is: eval(\"open('{marker}', 'w')\")",
        f"The answer is: \\boxed{{lambda: exec(\"open('{marker}','w')\")}}",
    ]


@pytest.mark.parametrize("task", ["math", "gsm8k"])
def test_code_in_answers_is_never_run(tmp_path, task):
    marker = tmp_path / "pwned"
    for text in _payloads(str(marker)):
        for gold in ("5", r"\frac{1}{2}", text.split("The answer is: ")[-1]):
            g = grade(text, gold, task)
            assert g.reason in REASONS
        # the payload also goes straight to math-verify (no fast path can settle it)
        assert symbolic_equiv(text[-60:], "x + 1", timeout=5.0) in REASONS
    assert not marker.exists()


def test_power_towers_and_huge_numbers_are_refused_fast():
    for pred in (r"10^{10^{10^{10}}}", r"9^9^9^9", r"10^(10^(10))", r"2^{9999999}", r"99999!"):
        assert guard(pred) == "too_long"
        t = time.monotonic()
        g = grade(f"The answer is: {pred}", "5", "math")
        assert g.reason in ("too_long", "mismatch") and not g.correct
        assert time.monotonic() - t < 1.0  # refused before sympy, not after a timeout
    # real MATH golds with big but harmless powers still grade
    assert is_equiv(r"2^{4950}", r"2^{4950}") and not is_equiv(r"3^{4950}", r"2^{4950}")


def test_deep_nesting_and_huge_text():
    nested = "\\boxed{" + "{" * 200 + "1" + "}" * 200 + "}"
    assert last_boxed(nested) == "{" * 200 + "1" + "}" * 200
    g = grade("The answer is: " + nested, "1", "math", timeout=2.0)
    assert g.reason in REASONS
    unclosed = "\\boxed{" * 200_000  # every candidate unbalanced: still one linear pass
    assert last_boxed(unclosed) is None and all_boxed(unclosed) == []
    t = time.monotonic()
    big = ("step 12 + 30 = 42. " * 280_000)[: 5 * 1024 * 1024] + " The answer is: 42"
    assert grade(big, "42", "gsm8k").correct
    assert grade(big[:-18], "42", "gsm8k", mode="strict").reason == "no_answer"
    assert (
        grade("x" * 5_000_000 + r"\boxed{" + "7" * 20_000 + "}", "7", "math").reason == "too_long"
    )
    assert time.monotonic() - t < 60  # generous: linear scans, no timeout involved


def test_timeout_kills_and_restarts_the_worker():
    symbolic_equiv("x + x", "2x", timeout=60)  # a started worker: time the call, not sympy's import
    t = time.monotonic()
    assert symbolic_equiv(*SLOW_PAIR, timeout=0.3) == "timeout"
    assert time.monotonic() - t < 0.3 + 3.0  # killed at the deadline, not after sympy finishes
    # the next call gets a fresh worker and a real answer
    assert symbolic_equiv(r"\frac{x^2-1}{x-1}", "x+1", timeout=30) in ("correct", "mismatch")
    assert symbolic_equiv(r"\sin^2 x + \cos^2 x", "1", timeout=30) == "correct"


def _grade_in_child(args):
    pred, gold, timeout = args
    from metamath.answers.symbolic import symbolic_equiv as se

    return se(pred, gold, timeout=timeout)


def test_symbolic_from_threads():
    jobs = [(r"\sin^2 x + \cos^2 x", "1", 30.0), (r"\sin^2 x", "1", 30.0), (*SLOW_PAIR, 0.3)] * 2
    with cf.ThreadPoolExecutor(4) as ex:
        got = list(ex.map(_grade_in_child, jobs))
    assert got == ["correct", "mismatch", "timeout"] * 2


@pytest.mark.parametrize(
    "method",
    ["fork", pytest.param("spawn", marks=pytest.mark.slow)],  # spawn: +sympy import
)
def test_symbolic_from_process_pool(method):
    POOL.close()  # a forked child must not inherit a live worker pipe (it starts its own anyway)
    symbolic_equiv("x+x", "2x", timeout=30)  # parent holds a worker while the pool forks
    jobs = [(r"\sin^2 x + \cos^2 x", "1", 30.0), (*SLOW_PAIR, 0.3), (r"\sin^2 x", "1", 30.0)]
    with cf.ProcessPoolExecutor(1, mp_context=mp.get_context(method)) as ex:
        got = list(ex.map(_grade_in_child, jobs))
    assert got == ["correct", "timeout", "mismatch"]
    assert symbolic_equiv("x+x", "2x", timeout=30) == "correct"  # parent's worker still fine


def _grade_in_daemon(q):
    q.put(grade(r"So \boxed{\sin^2 x + \cos^2 x}", "1", "math").reason)


def test_grade_inside_a_daemonic_pool_worker():
    # multiprocessing.Pool workers are daemonic and may not start multiprocessing children;
    # the worker is a plain subprocess, so grading still works there.
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_grade_in_daemon, args=(q,), daemon=True)
    p.start()
    assert q.get(timeout=120) == "correct"
    p.join(30)


def test_fuzz_fast_path_never_raises():
    import random

    from metamath.answers import extract, fast_verdict, normalize

    toks = [
        "1",
        "0",
        "9",
        "10",
        "x",
        "i",
        "e",
        "\\pi",
        "\\frac",
        "\\sqrt",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        "^",
        "_",
        "+",
        "-",
        "/",
        "=",
        ",",
        ".",
        "\\{",
        "\\}",
        "\\infty",
        "\\text{",
        "cm",
        "\\cup",
        "&",
        "\\\\",
        "\\begin{pmatrix}",
        "\\end{pmatrix}",
        "%",
        "\\$",
        "$",
        "!",
        " ",
        "\\sin",
        "\\le",
        "<",
        ":",
        "\\boxed{",
        "The answer is: ",
        "####",
        "1,000",
        "\\times10^",
        "\\theta",
    ]
    rng = random.Random(0)
    for _ in range(3000):
        a = "".join(rng.choice(toks) for _ in range(rng.randint(1, 14)))
        b = "".join(rng.choice(toks) for _ in range(rng.randint(1, 8)))
        assert fast_verdict(a, a) is bool(normalize(a))  # an empty answer is never right
        assert fast_verdict(a, b) in (True, False, None)
        for task in ("math", "gsm8k"):
            got = extract(a, "flexible", task)
            assert got is None or isinstance(got, str)


_SHAPES = {  # adversarial 5 MB completions: every one is a worst case of some scan
    "steps": "step 12 + 30 = 42. ",
    "markers": "The answer is ",
    "labels": "\nAnswer:",
    "hashes": "#### ",
    "boxes": "\\boxed{",
    "braces": "{",
    "dollars": "$5 and $",
    "digits": "1,234 567 ",
    "equals": "= ",
}


def _seconds(text: str) -> float:
    best = float("inf")
    for _ in range(2):  # best of two: a busy machine only ever adds time
        t = time.perf_counter()
        for task in ("gsm8k", "math"):
            grade(text, "42", task, "flexible")
        best = min(best, time.perf_counter() - t)
    return best


@pytest.mark.slow
@pytest.mark.parametrize("shape", list(_SHAPES))
def test_grading_time_is_linear_in_completion_size(shape):
    # 4x the text must cost about 4x the time; a quadratic scan would cost 16x
    unit = _SHAPES[shape]
    sizes = (5 * 1024 * 1024 // 4, 5 * 1024 * 1024)
    times = [_seconds((unit * (n // len(unit) + 1))[:n] + " The answer is: 42") for n in sizes]
    assert times[1] < 8 * times[0] + 0.5, (shape, times)
    assert times[1] < 30, (shape, times)

"""A hostile teacher for tests: a loopback OpenAI-compatible server (tests/_fake_server.py)
whose replies to "Sam has A apples and gets B more" questions mix every defect a real server
has sent: lone surrogates, NUL and ANSI bytes, null content, near-miss answers, cut-off and
megabyte replies. Sample i of a request gets variant i % len(VARIANTS).

    srv = FakeServer(choices=hostile_choices).start()
    write_seeds(path, n=4)                     # the matching seed file (gold = A + B)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

PLANTED = "sk-planted0123456789abcdefghij"  # never to be found in a file a run writes


def _answer(body: dict, chat: bool) -> int:
    text = body["messages"][-1]["content"] if chat else body.get("prompt", "")
    q = text.rsplit("Question:", 1)[-1]
    return sum(int(x) for x in re.findall(r"\d+", q))


def _variants(a: int) -> list[tuple[str | None, str]]:
    """(content, finish_reason) per sample index."""
    work = f"Sam starts with some apples and gets more, so we add them up to get {a}."
    return [
        (f"{work}\ud800 Clean\x00 now\x1b[31m!\x1b[0m\nThe answer is: {a}", "stop"),  # hostile
        (None, "stop"),  # content: null
        (f"{work[:-4]} {a + 1}.\nThe answer is: {a + 1}", "stop"),  # a near miss
        (f"{work}\nThe answer", "length"),  # cut off
        (f"{work} " + "and so on " * 220_000 + f"\nThe answer is: {a}", "stop"),  # 2.2 MB
        (f"Adding the apples: {a - 1} + 1 = {a}.\nThe answer is: {a}", "stop"),  # clean
    ]


VARIANTS = len(_variants(0))


def hostile_choices(body: dict, chat: bool, n: int) -> list[dict]:
    out = []
    for i in range(n):
        content, finish = _variants(_answer(body, chat))[i % VARIANTS]
        msg = {"message": {"role": "assistant", "content": content}} if chat else {"text": content}
        out.append({"index": i, "finish_reason": finish, **msg})
    return out


def write_seeds(path: Path, n: int = 4) -> Path:
    rows = [
        {
            "question": f"Sam has {3 + i} apples and gets {4 + 2 * i} more. How many now?",
            "answer": str(7 + 3 * i),
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def augment_args(
    seeds: Path, base_url: str, out: Path, k: int = VARIANTS, extra: tuple[str, ...] = ()
) -> list[str]:
    """`metamath augment` arguments for answer augmentation alone against the server; `extra`
    overrides go last among the overrides."""
    return [
        "augment",
        f"seeds=[{{name: apples, path: {seeds}, kind: gsm8k}}]",
        "teacher.backend=openai",
        "teacher.model=fake",
        f"teacher.options.base_url={base_url}",
        "teacher.options.max_retries=0",
        f"answer_aug.k={k}",
        "answer_aug.max_tokens=256",
        "rephrase.enabled=false",
        "fobar.enabled=false",
        "self_verification.enabled=false",
        "shots=0",
        "decontaminate=false",
        "near_dup_threshold=1.0",
        *extra,
        "--out",
        str(out),
        "--no-progress",
    ]


_HOSTILE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def check_clean_jsonl(run: Path) -> int:
    """Every .jsonl under `run` is strict UTF-8 JSON lines with no control byte or surrogate
    in any string; returns the number of rows seen."""
    n = 0
    for f in sorted(run.rglob("*.jsonl")):
        for no, raw in enumerate(f.read_bytes().splitlines(), 1):
            text = raw.decode("utf-8")  # strict
            assert not _HOSTILE.search(text), f"{f}:{no}"
            obj = json.loads(text)
            assert not _HOSTILE.search(json.dumps(obj, ensure_ascii=False)), f"{f}:{no}"
            n += 1
    return n

"""Data loaders (metamath.data) and JSONL I/O (metamath.io): real files where they exist, small
fixture files written here for the error paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metamath.data import ERRATA, gsm8k_gold, load, load_file, math_gold
from metamath.io import DataError, JsonlWriter, done_ids, read_jsonl, repair_jsonl

COUNTS = {
    ("gsm8k", "train"): 7473,
    ("gsm8k", "test"): 1319,
    ("math", "train"): 7500,
    ("math", "test"): 5000,
    ("math500", "test"): 500,
    ("gsm8k_backward", "test"): 1270,
}


@pytest.mark.parametrize("name, split", list(COUNTS))
def test_real_files_load_whole(data_dir, name, split):
    ps = load(name, split)
    assert len(ps) == COUNTS[(name, split)] and not ps.skipped
    assert len({p.id for p in ps}) == len(ps)  # ids are unique and deterministic
    assert all(p.gold and p.question for p in ps)
    assert load(name, split)[0] == ps[0]


def test_real_golds(data_dir):
    g = load("gsm8k", "test")
    assert g[0].id == "gsm8k/test/1" and g[0].gold == "18" and "####" in g[0].solution
    assert all("," not in p.gold for p in load("gsm8k", "train"))
    m = {p.id: p for p in load("math", "test")}
    assert m["test/algebra/1.json"].gold == "2" and m["test/algebra/1.json"].level == "Level 3"
    m500 = load("math500", "test")
    assert {p.id for p in m500} <= set(m)
    train = {p.id: p for p in load("math", "train")}
    for pid, gold in ERRATA.items():  # the two empty-box solutions upstream
        assert train[pid].gold == gold and "\\boxed{}" in train[pid].solution
    back = load("gsm8k_backward", "test")
    assert back[0].gold == "80000" and back[0].meta["original_answer"] == "70000"


def test_limit_and_path(data_dir, tmp_path):
    assert len(load("gsm8k", "test", limit=5)) == 5
    assert len(load("gsm8k", "test", path=data_dir)) == 1319
    with pytest.raises(FileNotFoundError, match="expected the gsm8k test file"):
        load("gsm8k", "test", path=tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="known: "):
        load("gsm8k", "validation")


def test_gold_rules():
    assert gsm8k_gold("so 1,234 + 1 = 1,235\n#### 1,235") == "1235"
    assert gsm8k_gold("no marker") is None
    assert math_gold(r"thus $\boxed{\frac{1}{2}}$ and \fbox{3}") == "3"
    assert math_gold(r"$\boxed{\{1,2\}}$") == r"\{1,2\}"


def test_load_file_field_map_and_formats(tmp_path):
    f = tmp_path / "mine.jsonl"
    rows = [
        {"uid": "a", "problem": "Q1?", "final": "1,234"},
        {"uid": "b", "problem": "Q2?", "final": "1,2"},  # a list, not a number
        {"uid": "c", "problem": "Q3?", "final": r"\frac{1}{2}"},
    ]
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ps = load_file(f, question="problem", answer="final", id_field="uid")
    assert [(p.id, p.gold) for p in ps] == [("a", "1234"), ("b", "1,2"), ("c", r"\frac{1}{2}")]
    j = tmp_path / "mine.json"
    j.write_text(json.dumps({"data": rows}))
    assert [p.gold for p in load_file(j, question="problem", answer="final")] == [
        "1234",
        "1,2",
        r"\frac{1}{2}",
    ]
    with pytest.raises(ValueError, match="answer_format"):
        load_file(f, question="problem", answer="final", answer_format="latex")


def test_bad_rows_name_file_line_and_field(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(
        b'{"question": "Q?", "answer": "#### 5"}\n'
        b'{"question": "Q?", "answer": "no marker"}\n'
        b'{"answer": "#### 3"}\n'
        b'{"question": "Q?", "answer": "#### 4\xff"}\n'
        b"not json\n"
    )
    with pytest.raises(DataError, match=r"bad.jsonl:2: field 'answer' has no final answer"):
        load_file(f, answer_format="gsm8k")
    ps = load_file(f, answer_format="gsm8k", skip_bad=True)
    assert [p.gold for p in ps] == ["5"]
    assert [e.line for e in ps.skipped] == [2, 3, 4, 5]
    assert "field 'question' is missing" in str(ps.skipped[1])
    assert "bad.jsonl:4: not valid UTF-8" in str(ps.skipped[2])
    assert "bad.jsonl:5: malformed JSONL line" in str(ps.skipped[3])


def test_jsonl_writer_resume(tmp_path):
    p = tmp_path / "out.jsonl"
    with JsonlWriter(p) as w:
        w.write({"id": "a"})
        w.write({"id": "b"})
    with open(p, "a") as f:
        f.write('{"id": "c", "tor')  # a crash mid-line
    assert done_ids(p) == {"a", "b"}  # the torn line is cut on resume
    assert repair_jsonl(p) == 0
    with JsonlWriter(p) as w:
        w.write({"id": "c"})
    assert [o["id"] for _, o in read_jsonl(p)] == ["a", "b", "c"]


def test_offline_hub_fallback_fails_at_once_with_the_fix(tmp_path, monkeypatch):
    import time

    from metamath.data import load

    monkeypatch.setenv("METAMATH_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as e:
        load("gsm8k", split="test", how_to_pass="pass --tasks my.jsonl")
    assert time.monotonic() - t0 < 5
    msg = str(e.value)
    # where it looked, why the Hub was not asked, and the fixes (the caller's own keys last)
    assert f"Looked for: {tmp_path / 'nowhere' / 'gsm8k' / 'test.jsonl'} ($METAMATH_DATA)" in msg
    assert "openai/gsm8k was not tried (HF_HUB_OFFLINE is set)" in msg
    assert "fix: export METAMATH_DATA=/path/to/data" in msg
    assert msg.endswith("or pass --tasks my.jsonl")


def test_default_data_dirs_are_the_working_directory_then_the_checkout(monkeypatch, tmp_path):
    from metamath.data import data_dir, data_dirs, expand_data_path

    monkeypatch.delenv("METAMATH_DATA")
    monkeypatch.chdir(tmp_path)  # a working directory with no ../shared/data
    dirs = data_dirs()
    assert dirs[0][0] == Path("../shared/data")
    repo = Path(__file__).resolve().parent.parent
    assert dirs[-1][0] == repo.parent / "shared" / "data"  # found from any working directory
    if (repo.parent / "shared" / "data").is_dir():
        assert data_dir() == repo.parent / "shared" / "data"
        assert expand_data_path("$METAMATH_DATA/gsm8k/train.jsonl") == str(
            repo.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
        )
    monkeypatch.setenv("METAMATH_DATA", str(tmp_path / "d"))
    assert data_dirs() == [(tmp_path / "d", "$METAMATH_DATA")]  # set: the only place looked


def test_whole_file_writes_are_atomic(tmp_path):
    from metamath.io import write_json, write_jsonl

    p = tmp_path / "rows.jsonl"
    assert write_jsonl(p, [{"a": 1}, {"b": 2}]) == 2

    def broken():
        yield {"c": 3}
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(p, broken())
    assert [r for _, r in read_jsonl(p)] == [{"a": 1}, {"b": 2}]  # old content intact
    assert sorted(x.name for x in tmp_path.iterdir()) == ["rows.jsonl"]  # no temp left over
    write_json(tmp_path / "s.json", {"x": [1, 2]})
    assert (tmp_path / "s.json").read_text().startswith("{")

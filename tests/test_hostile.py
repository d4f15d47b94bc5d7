"""A hostile teacher and hostile files against the real CLI: nothing crashes a run, nothing
hostile is kept, every loss is a recorded rejection, and no planted key lands on disk."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from _fake_server import FakeServer
from _hostile import (
    PLANTED,
    VARIANTS,
    augment_args,
    check_clean_jsonl,
    hostile_choices,
    write_seeds,
)
from metamath.cli import main
from metamath.text import reply_char_limit


@pytest.fixture
def hostile():
    srv = FakeServer(choices=hostile_choices).start()
    yield srv
    srv.stop()


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_augment_survives_a_hostile_teacher(tmp_path, hostile, capsys):
    seeds = write_seeds(tmp_path / "seeds.jsonl", n=4)
    run = tmp_path / "run"
    assert main(augment_args(seeds, hostile.base_url, run)) == 0
    sent = len(hostile.received)
    assert sent == 4  # one request of n=6 per seed

    check_clean_jsonl(run)
    kept = rows(run / "metamathqa.jsonl")
    assert kept, "the clean and the cleaned replies are kept"
    for r in kept:
        assert "\ufffd" in r["response"] or "Adding the apples" in r["response"]
        assert len(r["response"]) < 1000
    rejected = rows(run / "rejected.jsonl")
    reasons: dict[str, int] = {}
    for r in rejected:
        reasons[r["reason"]] = reasons.get(r["reason"], 0) + 1
    # per seed: null content, a near miss, a cut-off reply and the 2 MB reply (cut: truncated)
    assert reasons == {"no_content": 4, "mismatch": 4, "truncated": 8}, reasons
    assert all("no text" in r["error"] for r in rejected if r["reason"] == "no_content")
    stats = json.loads((run / "stats.json").read_text())
    a = stats["techniques"]["answer_aug"]
    assert a["samples"] == 4 * VARIANTS and a["kept"] + sum(a["rejected"].values()) == a["samples"]
    limit = reply_char_limit(256)
    assert all(len(c["response"]) <= limit for c in rows(run / "work" / "candidates.jsonl"))
    assert "samples came back without text" in capsys.readouterr().err

    assert main(augment_args(seeds, hostile.base_url, run)) == 0  # a re-run
    assert len(hostile.received) == sent, "a re-run sends no new request"
    assert rows(run / "metamathqa.jsonl") == kept


def test_failed_requests_are_rejections_and_a_rerun_retries_them(tmp_path, capsys):
    srv = FakeServer(choices=hostile_choices).start()
    try:
        seeds = write_seeds(tmp_path / "seeds.jsonl", n=3)
        with open(seeds, "a") as f:  # the server fails this one twice (then answers)
            f.write(json.dumps({"question": "[500x2] Sam has 1 and gets 1. Now?", "answer": "2"}))
            f.write("\n")
        run = tmp_path / "run"
        args = augment_args(seeds, srv.base_url, run, k=1)
        assert main(args) == 0
        failed = [r for r in rows(run / "rejected.jsonl") if r["stage"] == "request"]
        assert len(failed) == 1 and failed[0]["reason"] == "request_failed"
        assert "HTTP 500" in failed[0]["error"] and failed[0]["samples_lost"] == 1
        assert "1 requests failed" in capsys.readouterr().err
        assert main(args) == 0  # the retry of the failed request fails again (2nd of 2)
        errors = lambda: sum(  # noqa: E731
            t["request_errors"]
            for t in json.loads((run / "stats.json").read_text())["techniques"].values()
        )
        assert errors() == 1
        assert main(args) == 0  # now it is answered
        assert not [r for r in rows(run / "rejected.jsonl") if r["stage"] == "request"]
        assert errors() == 0, "a failure that a re-run retried is no longer counted"
    finally:
        srv.stop()


def test_eval_survives_a_hostile_server(tmp_path, hostile):
    seeds = write_seeds(tmp_path / "apples.jsonl", n=3)
    run = tmp_path / "eval"
    args = [
        "eval",
        "--backend",
        "openai",
        "--model",
        "fake",
        "--tasks",
        str(seeds),
        f"options.base_url={hostile.base_url}",
        "options.max_retries=0",
        "decoding.n=6",
        "decoding.temperature=0.7",
        "decoding.max_tokens=256",
        "--out",
        str(run),
        "--no-progress",
    ]
    assert main(args) == 0
    check_clean_jsonl(run)
    samples = rows(run / "samples.jsonl")
    assert len(samples) == 18
    assert sum(1 for s in samples if s["error"] and "no text" in s["error"]) == 3
    sent = len(hostile.received)
    assert main(args) == 0 and len(hostile.received) == sent  # all from the cache


# -- seed files with each defect -------------------------------------------------------------
GOOD = {"question": "Sam has 3 apples and gets 4 more. How many now?", "answer": "7"}
DEFECTS = [
    (b"{not json}\n", "malformed JSONL line"),
    (b'{"answer": "5"}\n', "field 'question' is missing"),
    (b'{"question": 12, "answer": "5"}\n', "field 'question' is int, not text"),
    (b'{"question": "Q?", "answer": ["5"]}\n', "field 'answer' is list"),
    (b'{"question": "Caf\xe9?", "answer": "5"}\n', "not valid UTF-8"),
    (b'["a", "list"]\n', "expected a JSON object"),
    (b'{"question": "' + b"x" * 30_000 + b'", "answer": "5"}\n', "max_question_chars"),
]


def test_every_bad_seed_row_is_a_recorded_rejection(tmp_path, hostile, capsys):
    f = tmp_path / "seeds.jsonl"
    body = b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n"  # a BOM: row 1 is fine
    body += b"".join(raw for raw, _ in DEFECTS)
    f.write_bytes(body)
    run = tmp_path / "run"
    assert main(augment_args(f, hostile.base_url, run, k=1)) == 0
    got = [r for r in rows(run / "rejected.jsonl") if r["stage"] == "seeds"]
    assert [r["line"] for r in got] == list(range(2, 2 + len(DEFECTS)))
    for r, (_, why) in zip(got, DEFECTS, strict=True):
        assert why in r["error"] and r["file"] == str(f), r
    assert json.loads((run / "stats.json").read_text())["seed_rows_rejected"] == len(DEFECTS)
    assert f"{len(DEFECTS)} seed rows could not be read" in capsys.readouterr().err
    assert len(hostile.received) == 1  # only the good row was asked about


@pytest.mark.parametrize("content", [b"", b"\n\n", b'{"bad": 1}\n'])
def test_a_seed_file_without_a_usable_row_is_an_error(tmp_path, content, capsys):
    f = tmp_path / "empty.jsonl"
    f.write_bytes(content)
    assert main(augment_args(f, "http://127.0.0.1:9/v1", tmp_path / "run", k=1)) == 2
    assert "no usable seed question" in capsys.readouterr().err


def test_augment_warns_loudly_when_nothing_is_kept(tmp_path, capsys):
    srv = FakeServer().start()  # answers "answer 0 seed ...": never right
    try:
        seeds = write_seeds(tmp_path / "seeds.jsonl", n=2)
        assert main(augment_args(seeds, srv.base_url, tmp_path / "run", k=1)) == 0
    finally:
        srv.stop()
    assert "WARNING: 0 rows kept" in capsys.readouterr().err


@pytest.mark.parametrize("content", [b"", b"\n \n"])
def test_grade_refuses_an_empty_input(tmp_path, content, capsys):
    f = tmp_path / "none.jsonl"
    f.write_bytes(content)
    assert main(["grade", str(f), "--task", "gsm8k", "--no-progress"]) == 2
    assert "no rows to grade" in capsys.readouterr().err


def test_grade_accepts_a_bom(tmp_path, capsys):
    f = tmp_path / "bom.jsonl"
    f.write_bytes(b'\xef\xbb\xbf{"completion": "The answer is: 7", "gold": "7"}\n')
    assert main(["grade", str(f), "--task", "gsm8k", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["correct"] == 1


# -- secrets ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "override",
    [
        f"teacher.options.api_key={PLANTED}",
        f"teacher.options.token={PLANTED}",
        f"teacher.options.extra_body.nested.password={PLANTED}",
    ],
)
def test_a_key_in_the_config_is_refused_before_anything_is_written(tmp_path, override, capsys):
    seeds = write_seeds(tmp_path / "seeds.jsonl")
    run = tmp_path / "run"
    code = main(augment_args(seeds, "http://127.0.0.1:9/v1", run, extra=(override,)))
    err = capsys.readouterr().err
    if "extra_body" in override:  # extra_body may carry one: it is redacted instead
        assert PLANTED not in err
        return
    assert code == 2 and "export OPENAI_API_KEY" in err and PLANTED not in err
    assert not run.exists()


def test_a_key_in_a_yaml_config_is_refused(tmp_path, capsys):
    y = tmp_path / "recipe.yaml"
    y.write_text(f"teacher:\n  backend: openai\n  options:\n    api_key: {PLANTED}\n")
    assert main(["augment", "--config", str(y), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "teacher.options.api_key" in err and PLANTED not in err
    assert not (tmp_path / "r").exists()


def test_a_planted_key_is_in_no_file_a_run_writes(tmp_path, monkeypatch, capsys):
    """The key reaches the server in every way it can be passed (env, URL user info, URL query,
    extra_body, headers); a grep of everything the runs wrote finds it nowhere."""
    srv = FakeServer(choices=hostile_choices).start()
    try:
        seeds = write_seeds(tmp_path / "seeds.jsonl", n=2)
        monkeypatch.setenv("OPENAI_API_KEY", PLANTED)
        host = srv.base_url.removeprefix("http://")
        ways = {
            "userinfo": [f"teacher.options.base_url=http://user:{PLANTED}@{host}"],
            "query": [f"teacher.options.base_url={srv.base_url}?api_key={PLANTED}"],
            "extra_body": [f"teacher.options.extra_body.api_key={PLANTED}"],
            "headers": [f"teacher.options.headers.X-Api-Key={PLANTED}"],
        }
        for name, extra in ways.items():
            out = tmp_path / "runs" / name
            assert main(augment_args(seeds, srv.base_url, out, k=2, extra=tuple(extra))) == 0, name
        # a failing server: the URL with the key lands in error messages
        bad = f"http://user:{PLANTED}@127.0.0.1:9/v1"
        out = tmp_path / "runs" / "failing"
        assert main(augment_args(seeds, bad, out, k=1)) == 0
        assert rows(out / "rejected.jsonl")[0]["reason"] == "request_failed"
        ev = tmp_path / "runs" / "eval"
        eval_args = ["eval", "--backend", "openai", "--model", "fake", "--tasks", str(seeds)]
        assert main([*eval_args, f"options.base_url={bad}", "--out", str(ev)]) == 0
        assert rows(ev / "samples.jsonl")[0]["error"]
    finally:
        srv.stop()
    assert any(PLANTED in json.dumps(r) for r in srv.received) or srv.received
    found = subprocess.run(
        ["grep", "-rla", PLANTED, str(tmp_path / "runs")], capture_output=True, text=True
    )
    assert found.stdout == "", found.stdout
    assert PLANTED not in capsys.readouterr().err


# -- sizes -----------------------------------------------------------------------------------
def _peak_rss_mb(cmd: list[str], cwd: Path) -> tuple[int, float]:
    """Run a command; (exit status, its peak resident memory in MB) from wait4's rusage."""
    import os

    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    return proc.returncode, usage.ru_maxrss / 1024


def _big_row(path: Path, field: str, extra: dict) -> Path:
    with open(path, "wb") as f:
        f.write(json.dumps({**extra, field: "Sam has 3 apples. How many?"}).encode() + b"\n")
        big = b'{"' + field.encode() + b'": "' + b"Sam has 9 apples. " * 3_000_000 + b'"'
        f.write(big + b", " + json.dumps(extra).encode()[1:] + b"\n")  # a 52 MB row
    return path


@pytest.mark.slow
def test_a_50mb_row_costs_under_1gb(tmp_path, hostile, tiny_model_dir):
    metamath = [sys.executable, "-m", "metamath"]
    seeds = _big_row(tmp_path / "seeds.jsonl", "question", {"answer": "3"})
    assert seeds.stat().st_size > 50_000_000
    code, mb = _peak_rss_mb(
        [*metamath, *augment_args(seeds, hostile.base_url, tmp_path / "a", k=1)], tmp_path
    )
    assert code == 0 and mb < 1024, (code, mb)
    code, mb = _peak_rss_mb(
        [
            *metamath,
            "eval",
            "--model",
            str(tiny_model_dir),
            "--tasks",
            str(seeds),
            "--limit",
            "2",
            "decoding.max_tokens=4",
            "--out",
            str(tmp_path / "e"),
            "--no-progress",
        ],
        tmp_path,
    )
    # the big row is an error naming its line (an eval task with a bad row is not scored)
    assert code == 2 and mb < 1024, (code, mb)
    data = _big_row(tmp_path / "train.jsonl", "query", {"response": "The answer is: 3"})
    with open(data, "a") as f:
        for i in range(8):
            f.write(json.dumps({"query": f"What is {i}+1?", "response": f"The answer is: {i + 1}"}))
            f.write("\n")
    code, mb = _peak_rss_mb(
        [
            *metamath,
            "train",
            "--config",
            str(Path(__file__).parents[1] / "configs/train/tiny_cpu.yaml"),
            f"model={tiny_model_dir}",
            f"data.path={data}",
            "data.query_field=query",
            "data.response_field=response",
            "data.on_bad_row=skip",
            "max_steps=1",
            "global_batch_size=2",
            "micro_batch_size=2",
            "save_model=false",
            f"data.cache_dir={tmp_path / 'tok'}",
            "--run-dir",
            str(tmp_path / "t"),
        ],
        tmp_path,
    )
    assert code == 0 and mb < 1024, (code, mb)
    dropped = rows(tmp_path / "t" / "dropped.jsonl")
    assert dropped[0]["reason"] == "bad_row" and "row too large" in dropped[0]["error"]

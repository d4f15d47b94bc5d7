"""metamath.evaluate.run: generate -> grade -> write, with a scripted LLM for the logic.

The scripted LLM implements the real LLM protocol (llm.base) and answers from a table; the
grading is the real metamath.answers. End-to-end runs on the tiny model are in
tests/test_eval_e2e.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from metamath.evaluate import EvalConfig, get_task, run_eval, score_file
from metamath.evaluate.run import DecodingConfig
from metamath.llm.base import Completion, Request, Result


class ScriptedLLM:
    """answer(request, sample_index) -> text or (text, finish_reason); an Exception -> error."""

    def __init__(self, answer: Callable[[Request, int], object], model: str = "scripted"):
        self.answer, self.model, self.requests = answer, model, []

    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        for req in reversed(list(requests)):  # out of order, as real backends stream
            self.requests.append(req)
            comps = []
            try:
                for i in range(req.n):
                    out = self.answer(req, i)
                    text, fin = out if isinstance(out, tuple) else (out, "stop")
                    comps.append(
                        Completion(
                            text=text,
                            index=i,
                            finish_reason=fin,
                            prompt_tokens=3,
                            completion_tokens=2,
                        )
                    )
            except RuntimeError as e:
                yield Result(request=req, error=str(e))
                continue
            yield Result(request=req, completions=tuple(comps))

    def close(self) -> None:
        pass


def write_task(tmp_path: Path) -> Path:
    """A user's task file: plain answers, a custom id field, and a subject/level breakdown."""
    rows = [
        {
            "qid": f"q{i}",
            "text": f"What is {i} + {i}?",
            "final": str(2 * i),
            "topic": "add" if i % 2 else "double",
            "lvl": f"L{i % 3}",
        }
        for i in range(12)
    ]
    f = tmp_path / "mine.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f


def cfg_for(tmp_path: Path, **kw) -> EvalConfig:
    f = write_task(tmp_path)
    base = dict(
        model="scripted",
        tasks=["mine"],
        cache=False,
        task_files={
            "mine": dict(
                path=str(f),
                question="text",
                answer="final",
                id_field="qid",
                subject="topic",
                level="lvl",
            )
        },
    )
    base.update(kw)
    return EvalConfig(**base)


def q_number(req: Request) -> int:
    text = req.prompt or req.messages[-1]["content"]
    return int(text.rsplit("What is ", 1)[1].split(" ")[0])


def script(req: Request, k: int) -> object:
    """q0-q3 right with the marker, q4-q5 right only as a box (strict: no answer), q6-q7 wrong,
    q8 no answer at all, q9 truncated, q10 a request error, q11 right."""
    i = q_number(req)
    if i in (0, 1, 2, 3, 11):
        return f"Adding gives {2 * i}. The answer is: {2 * i}"
    if i in (4, 5):
        return f"So the sum is $\\boxed{{{2 * i}}}$."
    if i in (6, 7):
        return f"The answer is: {2 * i + 1}"
    if i == 8:
        return "I cannot tell."
    if i == 9:
        return ("Let me think about this " * 20, "length")
    raise RuntimeError("HTTP 500 after 3 retries")


def test_run_eval_writes_consistent_outputs(tmp_path):
    run = tmp_path / "run"
    results = run_eval(cfg_for(tmp_path), run, llm=ScriptedLLM(script), progress=False)
    for name in ("config.yaml", "samples.jsonl", "results.json", "report.md", "report.html"):
        assert (run / name).stat().st_size > 0, name
    m = results["tasks"]["mine"]["metrics"]
    assert results["primary"] == "strict"  # alpaca style reproduces the paper's strict score
    assert m["n_problems"] == 12
    assert m["strict"]["correct"] == 5 and m["flexible"]["correct"] == 7
    assert m["strict"]["reasons"] == {"correct": 5, "error": 1, "mismatch": 2, "no_answer": 4}
    assert m["strict"]["no_answer_rate"] == pytest.approx(4 / 12)
    assert m["truncated_rate"] == pytest.approx(1 / 12)
    assert m["error_rate"] == pytest.approx(1 / 12)
    lo, hi = m["strict"]["ci95"]
    assert lo < 5 / 12 < hi
    assert m["by_subject"]["add"]["n"] == 6 and m["by_level"]["L0"]["n"] == 4
    # q0,q3,q6,q9 are L0: right, right, wrong, truncated
    assert m["by_level"]["L0"]["strict"] == pytest.approx(2 / 4)
    # every number is recomputable from samples.jsonl alone
    on_disk = json.loads((run / "results.json").read_text())
    assert score_file(run / "samples.jsonl")["mine"] == on_disk["tasks"]["mine"]["metrics"]
    rows = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    assert [r["problem_id"] for r in rows] == [f"q{i}" for i in range(12)]  # file order
    need = {"id", "prompt", "completion", "extracted", "gold", "correct", "reason", "task"}
    assert all(need <= set(r) for r in rows)
    assert rows[4]["strict"]["reason"] == "no_answer" and rows[4]["flexible"]["correct"]
    assert rows[10]["error"] == "HTTP 500 after 3 retries" and rows[10]["reason"] == "error"
    assert rows[0]["prompt"].endswith("### Response:\n")  # the training prompt (default)
    assert results["usage"]["errors"] == 1 and results["usage"]["completion_tokens"] == 22
    assert results["tasks"]["mine"]["version"].startswith("1+file.")


def test_flexible_primary_for_other_styles_and_chat_messages(tmp_path):
    llm = ScriptedLLM(script)
    res = run_eval(
        cfg_for(tmp_path, prompt_style="chat", system_prompt="Be brief."),
        tmp_path / "run",
        llm=llm,
        progress=False,
    )
    assert res["primary"] == "flexible"
    assert res["summary"]["mine"]["accuracy"] == pytest.approx(7 / 12)
    req = llm.requests[0]
    assert req.prompt is None and req.messages[0] == {"role": "system", "content": "Be brief."}
    assert "\\boxed{}" in req.messages[-1]["content"] and req.stop == ()


def test_fewshot_prompt_and_decoding_defaults(tmp_path, data_dir):
    llm = ScriptedLLM(lambda r, k: "The answer is: 0")
    run_eval(
        EvalConfig(
            model="s", tasks=["gsm8k", "math500"], limit=2, cache=False, prompt_style="fewshot"
        ),
        tmp_path / "r",
        llm=llm,
        progress=False,
    )
    by_task = {r.id.split("/")[0]: r for r in llm.requests}
    assert by_task["gsm8k"].max_tokens == 512 and by_task["math500"].max_tokens == 2048
    assert by_task["gsm8k"].prompt.count("Question:") == 9  # 8 shots + the test question
    assert by_task["math500"].prompt.count("Problem:") == 5  # 4 shots + the test problem
    assert by_task["gsm8k"].temperature == 0.0 and by_task["gsm8k"].seed == 0


def test_sampling_pass_and_maj_at_k(tmp_path):
    # 4 samples per problem: q0 right in samples 0 and 2, every other problem only in sample 2.
    def sampled(req: Request, k: int) -> str:
        i = q_number(req)
        if i == 0:
            return f"The answer is: {['0', '7', '0', '9'][k]}"
        return f"The answer is: {['5', '5', str(2 * i), '5'][k]}"

    cfg = cfg_for(tmp_path, decoding=DecodingConfig(n=4, temperature=0.7, k=[1, 2]))
    res = run_eval(cfg, tmp_path / "r", llm=ScriptedLLM(sampled), progress=False)
    m = res["tasks"]["mine"]["metrics"]["strict"]
    c = [2] + [1] * 11
    assert m["accuracy"] == pytest.approx(sum(c) / 48)
    assert m["pass@k"]["1"] == pytest.approx(sum(x / 4 for x in c) / 12)
    # pass@2 = 1 - C(n-c,2)/C(4,2): c=2 -> 1-1/6, c=1 -> 1-3/6
    assert m["pass@k"]["2"] == pytest.approx(((1 - 1 / 6) + 11 * 0.5) / 12)
    # maj@4: q0 votes 0,7,0,9 -> "0" wins (right); others 5 wins (wrong)
    assert m["maj@k"]["4"] == pytest.approx(1 / 12)
    assert m["ci_method"] == "bootstrap"
    rows = [json.loads(x) for x in (tmp_path / "r" / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 48 and rows[1]["id"].endswith("#1")
    assert score_file(tmp_path / "r" / "samples.jsonl")["mine"] == res["tasks"]["mine"]["metrics"]
    md = (tmp_path / "r" / "report.md").read_text()
    assert "| k | pass@k % | maj@k % |" in md and "| 2 | 52.8 |" in md  # (5/6 + 11/2) / 12
    assert "maj@k %" in (tmp_path / "r" / "report.html").read_text()


def test_config_errors_name_the_fix(tmp_path):
    with pytest.raises(ValueError, match="temperature"):
        run_eval(
            cfg_for(tmp_path, decoding=DecodingConfig(n=4)),
            tmp_path / "r",
            llm=ScriptedLLM(script),
            progress=False,
        )
    with pytest.raises(ValueError, match="unknown task 'gsm9k'"):
        run_eval(
            EvalConfig(model="s", tasks=["gsm9k"], cache=False),
            tmp_path / "r",
            llm=ScriptedLLM(script),
            progress=False,
        )
    with pytest.raises(ValueError, match="listed twice"):
        run_eval(
            EvalConfig(model="s", tasks=["gsm8k", "gsm8k"], cache=False),
            tmp_path / "r",
            llm=ScriptedLLM(script),
            progress=False,
        )
    with pytest.raises(ValueError, match="backend"):
        run_eval(
            EvalConfig(model="s", backend="tgi", cache=False),
            tmp_path / "r",
            llm=ScriptedLLM(script),
            progress=False,
        )


@pytest.mark.parametrize(
    "path", sorted(Path(__file__).parent.parent.glob("configs/eval/*.yaml")), ids=lambda p: p.name
)
def test_shipped_configs_load_and_check(path):
    from metamath.config import load_config

    cfg = load_config(EvalConfig, path, ["model=./ckpt"])
    cfg.check()
    assert cfg.model == "./ckpt" and cfg.tasks
    for t in cfg.tasks:
        if t not in cfg.task_files:
            get_task(t)


def test_metamath_grade_rescores_samples_without_a_model(tmp_path, capsys):
    from metamath.cli import main

    run_eval(cfg_for(tmp_path), tmp_path / "r", llm=ScriptedLLM(script), progress=False)
    samples = tmp_path / "r" / "samples.jsonl"
    ours = [json.loads(x) for x in samples.read_text().splitlines()]
    for mode in ("strict", "flexible"):
        out = tmp_path / f"graded_{mode}.jsonl"
        assert (
            main(
                [
                    "grade",
                    str(samples),
                    "--task",
                    "gsm8k",
                    "--mode",
                    mode,
                    "-o",
                    str(out),
                    "--no-progress",
                ]
            )
            == 0
        )
        graded = [json.loads(x) for x in out.read_text().splitlines()]
        assert [g["correct"] for g in graded] == [r[mode]["correct"] for r in ours]
    capsys.readouterr()


def test_tasks_as_data(tmp_path, data_dir):
    from metamath.evaluate import TASKS

    assert {t: TASKS[t].expected_size for t in TASKS} == {
        "gsm8k": 1319,
        "math": 5000,
        "math500": 500,
        "gsm8k_backward": 1270,
    }
    assert [len(TASKS[t].load()) for t in TASKS] == [1319, 5000, 500, 1270]
    m5 = TASKS["math500"].load(limit=3)
    assert m5[0].subject and m5[0].level.startswith("Level") and TASKS["math500"].max_tokens == 2048
    f = tmp_path / "svamp.jsonl"
    f.write_text('{"question": "Tom has 2 apples and gets 3 more. How many?", "answer": "5"}\n')
    t = get_task(str(f))
    assert (t.name, t.grader, t.max_tokens) == ("svamp", "gsm8k", 512)
    assert [p.gold for p in t.load()] == ["5"]
    f.write_text('{"question": "Tom has 2 apples and gets 4 more. How many?", "answer": "6"}\n')
    assert get_task(str(f)).version != t.version  # an edited file is a different task
    with pytest.raises(FileNotFoundError, match="does not exist"):
        get_task("missing.jsonl")
    with pytest.raises(ValueError, match="needs a 'path'"):
        get_task("x", {"x": {"question": "q"}})


def test_progress_bar_per_task(tmp_path, capsys):
    run_eval(cfg_for(tmp_path), tmp_path / "r", llm=ScriptedLLM(script), progress=True)
    err = capsys.readouterr().err
    assert "eval mine" in err and "12/12" in err


def test_resume_after_a_crash_sends_only_the_missing_requests(tmp_path):
    class Crashing(ScriptedLLM):
        def generate(self, requests):
            for i, res in enumerate(super().generate(requests)):
                if i == 5:
                    raise KeyboardInterrupt  # the process dies mid-task
                yield res

    cfg = cfg_for(tmp_path, cache=True)
    with pytest.raises(KeyboardInterrupt):
        run_eval(cfg, tmp_path / "r", llm=Crashing(script), progress=False)
    assert (tmp_path / "r" / "cache.sqlite").exists()
    again = ScriptedLLM(script)
    res = run_eval(cfg, tmp_path / "r", llm=again, progress=False)
    # Before the crash q11, q10 (an error), q9, q8, q7 came back (the fake answers in reverse);
    # the 4 answers are served from the cache, the error is never cached and is asked again.
    assert len(again.requests) == 8 and res["usage"]["cached"] == 4
    assert {r.id.split("#")[0] for r in again.requests} == {
        f"mine/q{i}" for i in (0, 1, 2, 3, 4, 5, 6, 10)
    }
    assert res["tasks"]["mine"]["metrics"]["strict"]["correct"] == 5

"""metamath compare: paired tests between two real eval runs (written by run_eval with a scripted
LLM) and the items that flipped; the CLI end to end."""

from __future__ import annotations

import json

import pytest

from metamath.cli import main
from metamath.evaluate import compare_runs, run_eval
from metamath.evaluate.run import DecodingConfig
from test_eval import ScriptedLLM, cfg_for, q_number


def answers(right: set[int]):
    def answer(req, k):
        i = q_number(req)
        return f"The answer is: {2 * i if i in right else 2 * i + 1}"

    return answer


@pytest.fixture
def two_runs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_eval(cfg_for(tmp_path), a, llm=ScriptedLLM(answers({0, 1, 2, 3})), progress=False)
    run_eval(
        cfg_for(tmp_path), b, llm=ScriptedLLM(answers({2, 3, 4, 5, 6, 7, 8, 9})), progress=False
    )
    return a, b


def test_mcnemar_and_flipped_items(two_runs):
    a, b = two_runs
    cmp = compare_runs(a, b, mode="strict")
    r = cmp["tasks"]["mine"]
    assert r["n_paired"] == 12 and r["test"] == "mcnemar_exact"
    assert r["accuracy_a"] == pytest.approx(4 / 12) and r["accuracy_b"] == pytest.approx(8 / 12)
    assert r["gained"] == ["q4", "q5", "q6", "q7", "q8", "q9"] and r["lost"] == ["q0", "q1"]
    assert r["p_value"] == pytest.approx(2 * (1 + 8 + 28) / 256)  # b=2, c=6 of 8 discordant
    flip = next(f for f in r["flips"] if f["id"] == "q0")
    assert flip == {
        "id": "q0",
        "direction": "lost",
        "gold": "0",
        "a_extracted": "0",
        "b_extracted": "1",
    }
    # symmetric: swapping the runs swaps gained and lost, same p
    rev = compare_runs(b, a, mode="strict")["tasks"]["mine"]
    assert rev["gained"] == r["lost"] and rev["p_value"] == r["p_value"]


def test_unpaired_items_and_sampled_runs_use_the_bootstrap(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    run_eval(cfg_for(tmp_path, limit=6), a, llm=ScriptedLLM(answers(set())), progress=False)
    cfg = cfg_for(tmp_path, decoding=DecodingConfig(n=2, temperature=0.7))
    run_eval(cfg, b, llm=ScriptedLLM(answers(set(range(12)))), progress=False)
    r = compare_runs(a, b, mode="flexible")["tasks"]["mine"]
    assert r["n_paired"] == 6 and r["only_in_b"] == 6 and r["only_in_a"] == 0
    assert r["test"] == "paired_bootstrap" and r["difference"] == pytest.approx(1.0)
    assert r["difference_ci95"] == [1.0, 1.0] and r["p_value"] == 0.0


def test_compare_errors(tmp_path, two_runs):
    with pytest.raises(FileNotFoundError, match="no samples.jsonl"):
        compare_runs(tmp_path / "nope", two_runs[0])
    with pytest.raises(ValueError, match="mode"):
        compare_runs(*two_runs, mode="lenient")


def test_compare_cli(two_runs, tmp_path, capsys):
    out = tmp_path / "cmp.json"
    assert main(["compare", str(two_runs[0]), str(two_runs[1]), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mine: n=12" in text and "B-A +33.3 points" in text and "gained 6, lost 2" in text
    assert "lost   q0" in text
    assert json.loads(out.read_text())["tasks"]["mine"]["n_lost"] == 2
    assert main(["compare", str(tmp_path / "missing"), str(two_runs[1])]) == 2


def test_version_mismatch_is_flagged(two_runs):
    a, b = two_runs
    res = json.loads((b / "results.json").read_text())
    res["tasks"]["mine"]["version"] = "2"
    (b / "results.json").write_text(json.dumps(res))
    r = compare_runs(a, b)["tasks"]["mine"]
    assert "task version differs" in r["warning"]
    assert "warning" not in compare_runs(a, a)["tasks"]["mine"]

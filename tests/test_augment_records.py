"""The rows that cross augment's stages (records.Candidate, records.Example) and the one JSONL
writer (io.JsonlWriter): typed in memory, the same bytes on disk as before they were typed."""

from __future__ import annotations

import json

import pytest

from metamath.augment.config import AugmentConfig
from metamath.augment.generate import Item, solve_job
from metamath.augment.outputs import kept_example
from metamath.augment.seeds import Seed
from metamath.config import ConfigError, load_config
from metamath.io import JsonlWriter, dumps_line, read_jsonl
from metamath.llm.base import Completion
from metamath.records import TECHNIQUES, TYPES, Candidate, Example, Problem, technique_of, type_name

# Rows of work/candidates.jsonl written by the scripted teacher on configs/augment/quickstart.yaml
# before Candidate existed (a FOBAR row with its mask, a rephrasing with its rephrasing_id).
REAL_ROWS = [
    '{"id": "train/algebra/4.json/fobar/m0/s0", "item_id": "train/algebra/4.json/fobar/m0", "seed_id": "train/algebra/4.json", "technique": "fobar", "type": "MATH_FOBAR", "kind": "math", "query": "The perimeter of a rectangle is X inches. What is the number of square inches in the maximum possible area for this rectangle?\\nIf we know the answer to the above question is 36, what is the value of unknown variable X?", "original_question": "The perimeter of a rectangle is 24 inches. What is the number of square inches in the maximum possible area for this rectangle?", "target": "24", "task": "math", "prompt_version": "fobar/math/v2", "gold_source": "given", "level": "Level 3", "mask": {"id": "train/algebra/4.json/m0", "seed_id": "train/algebra/4.json", "question": "The perimeter of a rectangle is X inches. What is the number of square inches in the maximum possible area for this rectangle?", "value": "24", "var": "X", "start": 32, "style": "plain", "decimals": 0}, "response": "We read the problem carefully (draft 503ca5844097).\\nWorking through sample 503c step by step gives 24.\\nThe value of x is 24.", "finish_reason": "stop", "correct": true, "reason": "correct", "extracted": "24"}',
    '{"id": "gsm8k/train/12/rephrase/r0/s0", "item_id": "gsm8k/train/12/rephrase/r0", "seed_id": "gsm8k/train/12", "technique": "rephrase", "type": "GSM_Rephrased", "kind": "gsm8k", "query": "Solve this. Tobias is buying a new pair of shoes that costs $95. He has been saving up his money each month for the past three months. He gets a $5 allowance a month. He also mows lawns and shovels driveways. He charges $15 to mow a lawn and $7 to shovel. After buying the shoes, he has $15 in change. If he mows 4 lawns, how many driveways did he shovel?", "original_question": "Tobias is buying a new pair of shoes that costs $95. He has been saving up his money each month for the past three months. He gets a $5 allowance a month. He also mows lawns and shovels driveways. He charges $15 to mow a lawn and $7 to shovel. After buying the shoes, he has $15 in change. If he mows 4 lawns, how many driveways did he shovel?", "target": "5", "task": "gsm8k", "prompt_version": "answer_aug/gsm8k/v2", "gold_source": "given", "level": null, "rephrasing_id": "gsm8k/train/12/rephrase/r0", "response": "We read the problem carefully (draft d7eaa95055cf).\\nWorking through sample d7ea step by step gives 958.\\nThe answer is: 958", "finish_reason": "stop", "correct": false, "reason": "mismatch", "extracted": "958"}',
]


@pytest.mark.parametrize("line", REAL_ROWS)
def test_candidate_rows_keep_their_bytes(line):
    c = Candidate.from_dict(json.loads(line))
    assert dumps_line(c.to_dict()) == line + "\n"


def _job(text: str, error: str | None = None) -> dict:
    from metamath.augment.generate import _row

    seed = Seed(
        Problem("gsm8k/train/1", "Tom has 3 apples and buys 4. How many now?", "7", "gsm8k"),
        "gsm8k",
        "7",
    )
    item = Item("answer_aug", "gsm8k/train/1/answer_aug", seed, seed.question, "7")
    job = solve_job(load_config(AugmentConfig, None, ["shots=0"]), item, 0, 1)
    return _row(job, Completion(text=text, index=0, error=error))


def test_a_cut_reply_and_a_failed_sample_keep_their_fields_in_place():
    reply = "3 + 4 = 7 apples in all.\nThe answer is: 7\nQuestion: What is 2 + 2?\nAnswer: 4"
    row = _job(reply)
    keys = list(row)
    assert keys[keys.index("response") :] == [
        "response",
        "raw_response",
        "finish_reason",
        "correct",
        "reason",
        "extracted",
    ]
    assert row["raw_response"] == reply and row["response"].endswith("The answer is: 7")
    assert (row["correct"], row["reason"], row["finish_reason"]) == (True, "correct", "stop")
    failed = _job("", error="HTTP 500: content null")
    assert list(failed)[-1] == "error" and "raw_response" not in failed
    assert (failed["correct"], failed["reason"]) == (False, "no_content")
    assert Candidate.from_dict(failed).to_dict() == failed


def test_kept_example_is_the_metamathqa_row():
    c = Candidate.from_dict(json.loads(REAL_ROWS[0]))
    ex = kept_example(c)
    assert list(ex.to_dict())[:4] == ["query", "response", "type", "original_question"]
    assert ex.response.endswith("The value of x is 24.\nThe answer is: 24")
    assert (ex.id, ex.seed_id, ex.technique, ex.gold_source) == (
        c.id,
        c.seed_id,
        "fobar",
        "given",
    )
    plain = {"query": "q", "response": "r", "type": "GSM_AnsAug", "original_question": "q"}
    assert Example.from_dict({**plain, "extra": 1}).to_dict()["gold_source"] == "given"


def test_techniques_and_types_are_one_vocabulary():
    assert TYPES[:4] == ("GSM_AnsAug", "GSM_Rephrased", "GSM_SV", "GSM_FOBAR")
    for t in TECHNIQUES:
        assert technique_of(type_name("gsm8k", t)) == t == technique_of(type_name("math", t))
    assert type_name("math", "self_verification") == "MATH_SV"


def test_jsonl_writer_atomic_keeps_the_old_file_on_error(tmp_path):
    p = tmp_path / "out.jsonl"
    with JsonlWriter(p, "w", atomic=True) as w:
        assert w.write_rows({"id": i, "q": "é"} for i in range(3)) == 3
    before = p.read_bytes()
    assert before.decode().splitlines()[0] == '{"id": 0, "q": "é"}'  # UTF-8, not escaped
    with pytest.raises(RuntimeError), JsonlWriter(p, "w", atomic=True) as w:
        w.write({"id": 9})
        raise RuntimeError("crash mid-write")
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left
    with pytest.raises(ValueError, match="mode"):
        JsonlWriter(p, "a", atomic=True)


def test_jsonl_writer_appends_a_request_whole(tmp_path):
    p = tmp_path / "rows.jsonl"
    p.write_text('{"id": 1}\n{"id": 2, "to')  # a crash mid-line
    with JsonlWriter(p) as w:
        w.write_rows([{"id": 2}, {"id": 3}])
        assert p.read_text().endswith('{"id": 3}\n')  # on disk before the writer closes
    assert [r["id"] for _, r in read_jsonl(p)] == [1, 2, 3]


@pytest.mark.parametrize(
    "override, message",
    [
        ({"style": "chatt"}, "style='chatt': use one of chat, completion"),
        ({"grade_mode": "lenient"}, "grade_mode='lenient': use one of strict, flexible"),
    ],
)
def test_config_check_names_the_key_for_configs_built_in_code(override, message):
    cfg = AugmentConfig(**override)
    with pytest.raises(ConfigError, match=message):
        cfg.check()
    key, value = next(iter(override.items()))
    with pytest.raises(ConfigError, match=f"{key}: '{value}' is not one of"):
        load_config(AugmentConfig, None, [f"{key}={value}"])  # YAML and overrides: at load

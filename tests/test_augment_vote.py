"""Seeds without answers (augment/vote.py): GSM8K train questions with their answers hidden, a
scripted teacher solving each with its own rate (0.02-0.9) and scattering its wrong answers: every
voted gold equals the true gold, every other question is a recorded rejection with its reason,
and the vote's samples are AnsAug's first samples (no request answered twice)."""

from __future__ import annotations

import json

import pytest

from metamath.answers import is_equiv
from metamath.augment import AugmentConfig, SeedConfig, TechniqueConfig, run_augment
from metamath.augment.config import VoteConfig
from metamath.augment.scripted import ScriptedTeacher
from metamath.augment.seeds import load_seeds
from metamath.augment.vote import decide
from metamath.llm.cache import CachedLLM


def rows(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def voted(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("vote")
    cfg = AugmentConfig(
        seeds=[SeedConfig(name="gsm8k", limit=150, gold="vote")],
        answer_aug=TechniqueConfig(k=8),
        rephrase=TechniqueConfig(enabled=False),
        fobar=TechniqueConfig(k=2, max_masks=1),
        self_verification=TechniqueConfig(enabled=False),
        vote=VoteConfig(samples=8, min_votes=3, min_agreement=0.5),
        decontaminate=False,
    )
    truth = load_seeds([SeedConfig(name="gsm8k", limit=150)])[0]  # the teacher knows them
    teacher = ScriptedTeacher(truth, p_range=(0.02, 0.9))
    llm = CachedLLM(teacher, out / "cache.sqlite")
    stats = run_augment(cfg, out / "run", llm=llm)
    return out / "run", stats, {s.id: s.gold for s in truth}, teacher


def test_voted_gold_equals_true_gold_and_the_rest_are_rejections(voted):
    run, stats, gold, _ = voted
    v = stats["vote"]
    assert v["questions"] == 150 and v["pending"] == 0
    assert v["agreed"] + sum(v["rejected"].values()) == 150
    assert 30 < v["agreed"] < 150  # the hard questions do not agree
    data = rows(run / "metamathqa.jsonl")
    assert data and all(r["gold_source"] == "vote" for r in data)
    assert stats["gold_source"] == {"vote": len(data)}
    answered = {r["seed_id"]: r["target"] for r in data if r["type"] == "GSM_AnsAug"}
    assert answered
    for sid, target in answered.items():
        assert is_equiv(target, gold[sid]), sid  # AnsAug rows are graded against the vote
    rej = [r for r in rows(run / "rejected.jsonl") if r["stage"] == "vote"]
    assert len(rej) == sum(v["rejected"].values())
    assert {r["reason"] for r in rej} <= {"no_answer", "tie", "too_few_votes", "low_agreement"}
    assert all(r["detail"]["samples"] == 8 and r["query"] for r in rej)
    kept_seeds = {r["seed_id"] for r in data}
    assert not kept_seeds & {r["seed_id"] for r in rej}  # a rejected question makes no rows
    assert "Gold by vote" in (run / "DATA_CARD.md").read_text()


def test_every_agreed_vote_is_the_true_answer(voted):
    run, stats, gold, _ = voted
    votes: dict[str, dict[int, str | None]] = {}
    for r in rows(run / "work" / "votes.jsonl"):
        votes.setdefault(r["seed_id"], {})[int(r["id"].rsplit("/s", 1)[1])] = r["extracted"]
    cfg = AugmentConfig(vote=VoteConfig(samples=8, min_votes=3, min_agreement=0.5))
    agreed = 0
    for sid, got in votes.items():
        answer, rec = decide([got[i] for i in range(8)], cfg)
        if answer is not None:
            agreed += 1
            assert is_equiv(answer, gold[sid]), (sid, answer, gold[sid], rec)
    assert agreed == stats["vote"]["agreed"]


def test_the_vote_samples_are_ansaug_samples(voted):
    """The cache served AnsAug's first 8 samples from the vote: the teacher answered each
    (request, sample) once."""
    _, stats, _, teacher = voted
    assert (
        stats["techniques"]["answer_aug"]["tokens"]["cached_samples"]
        == 8 * (stats["vote"]["agreed"])
    )


@pytest.mark.parametrize(
    "answers,reason",
    [
        (["18", "18.0", "18", None, "7", "18", "9", "1"], None),  # 4 of 8 agree, 18.0 = 18
        (["18", "18", "7", "7", "3", "4", "5", "6"], "tie"),
        (["18", "18", "7", "8", "3", "4", "5", "6"], "too_few_votes"),
        (["18", "18", "18", None, None, None, None, "7"], "low_agreement"),
        ([None] * 8, "no_answer"),
        (["\\frac{1}{2}", "0.5", "1/2", "0.50", "2", "3", "4", "5"], None),
    ],
)
def test_decide(answers, reason):
    cfg = AugmentConfig(vote=VoteConfig(samples=8, min_votes=3, min_agreement=0.5))
    got, rec = decide(answers, cfg)
    assert rec.get("reason") == reason
    assert (got is None) == (reason is not None)


def test_auto_votes_only_rows_without_an_answer(data_dir, tmp_path):
    f = tmp_path / "mine.jsonl"
    f.write_text(
        json.dumps({"question": "Tom has 3 apples and buys 4 more. How many now?", "answer": "7"})
        + "\n"
        + json.dumps({"question": "Ann has 5 pens and loses 2. How many pens are left?"})
        + "\n"
        + json.dumps({"answer": "3"})
        + "\n"
    )
    seeds, info = load_seeds([SeedConfig(name="mine", path=str(f), gold="auto")])
    assert [(s.gold, s.gold_source) for s in seeds] == [("7", "given"), ("", "vote")]
    assert info["mine"]["skipped_rows"] == 1  # the row without a question, with its reason
    seeds, _ = load_seeds([SeedConfig(name="mine", path=str(f), gold="vote")])
    assert [s.gold_source for s in seeds] == ["vote", "vote"]

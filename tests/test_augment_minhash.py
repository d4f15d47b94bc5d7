"""Paraphrase-level decontamination (augment/minhash.py): real GSM8K/MATH test items in disguise
are found, their template siblings with other numbers are not, the signatures estimate the
Jaccard the way datasketch (an independent MinHash) does, and the pipeline records the matched
test item and its similarity for a user-given test set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metamath.augment import AugmentConfig, SeedConfig, TechniqueConfig, run_augment
from metamath.augment.minhash import MinHashIndex, shingle_hashes, signature

TEST = {  # real test items (GSM8K test 1, 3; MATH test algebra)
    "g1": "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and "
    "bakes muffins for her friends every day with four. She sells the remainder at the "
    "farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every "
    "day at the farmers' market?",
    "g3": "Josh decides to try flipping a house.  He buys a house for $80,000 and then puts in "
    "$50,000 in repairs.  This increased the value of the house by 150%.  How much profit did "
    "he make?",
    "m1": "How many vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?",
}

CASES = [
    # sentence order changed, a few words swapped, numbers kept: a test item in disguise
    (
        "Josh decides to try flipping a house. This increased the value of the house by 150%. "
        "He purchases a house for $80,000 and after that puts in $50,000 in repairs. How much "
        "profit did he make?",
        "g3",
    ),
    (
        "Every day Janet's ducks lay 16 eggs. Every morning she eats three for breakfast, and "
        "every day she bakes muffins for her friends with four. At the farmers' market she "
        "sells the remainder daily for $2 per fresh duck egg. How many dollars does she make "
        "every day at the farmers' market?",
        "g1",
    ),
    # a GSM8K-Backward question (FOBAR form) of test item 3
    (
        "Josh decides to try flipping a house.  He buys a house for $x and then puts in $50,000 "
        "in repairs.  This increased the value of the house by 150%.  How much profit did he "
        "make?\nIf we know the answer of the above question is 70000, what is the value of "
        "unknown variable x?",
        "g3",
    ),
    ("How many vertical asymptotes does the graph of $y=\\frac{2}{x^2+x-6}$ have?", "m1"),
    # the same template with other numbers: another problem
    ("How many vertical asymptotes does the graph of $y=\\frac{5}{x^2+3x-10}$ have?", None),
    (
        "Josh decides to try flipping a car.  He buys a car for $9,000 and then puts in $1,200 "
        "in repairs.  This increased the value of the car by 40%.  How much profit did he make?",
        None,
    ),
    ("Natalia sold clips to 48 of her friends in April. How many clips did she sell?", None),
]


@pytest.fixture(scope="module")
def index():
    idx = MinHashIndex(0.5)
    for pid, text in TEST.items():
        idx.add(pid, text)
    return idx


@pytest.mark.parametrize("query,want", CASES)
def test_match(index, query, want):
    got = index.match(query)
    assert (got[0] if got else None) == want, index.similar(query)[:2]
    if got:
        assert 0.5 <= got[1] <= 1.0


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b))
    return inter / (len(a) + len(b) - inter)


def test_signatures_estimate_jaccard_like_datasketch():
    datasketch = pytest.importorskip("datasketch")
    texts = [q for q, _ in CASES] + list(TEST.values())
    errs_ours, errs_theirs = [], []
    for a in texts:
        for b in texts:
            sa, sb = shingle_hashes(a), shingle_hashes(b)
            exact = _jaccard(sa, sb)
            ours = float(np.mean(signature(sa) == signature(sb)))
            ma, mb = datasketch.MinHash(num_perm=128), datasketch.MinHash(num_perm=128)
            ma.update_batch([int(x).to_bytes(8, "little") for x in sa])
            mb.update_batch([int(x).to_bytes(8, "little") for x in sb])
            errs_ours.append(abs(ours - exact))
            errs_theirs.append(abs(ma.jaccard(mb) - exact))
    # both are unbiased estimates with ~126 hash functions: errors of the same size
    assert np.mean(errs_ours) < 0.05 and np.mean(errs_theirs) < 0.05
    assert max(errs_ours) < 0.2


def test_pipeline_records_the_matched_item_for_a_user_test_set(data_dir, tmp_path):
    tests = tmp_path / "my_test.jsonl"
    tests.write_text(json.dumps({"id": "t1", "problem": TEST["g3"]}) + "\n")
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        json.dumps({"question": CASES[0][0], "answer": "70000"})
        + "\n"
        + json.dumps({"question": "Tom has 3 apples and buys 4 more. How many now?", "answer": "7"})
        + "\n"
    )
    cfg = AugmentConfig(
        seeds=[SeedConfig(name="mine", path=str(seeds))],
        answer_aug=TechniqueConfig(k=2),
        rephrase=TechniqueConfig(enabled=False),
        fobar=TechniqueConfig(enabled=False),
        self_verification=TechniqueConfig(enabled=False),
        decontam_sets=[str(tests)],
    )
    from metamath.augment.scripted import ScriptedTeacher
    from metamath.augment.seeds import load_seeds

    st = run_augment(cfg, tmp_path / "run", llm=ScriptedTeacher(load_seeds(cfg.seeds)[0], 1.0))
    d = st["decontamination"]
    assert d["removed_by_rule"] == {"ngram": 0, "minhash": 2}
    rej = [json.loads(x) for x in (tmp_path / "run" / "rejected.jsonl").read_text().splitlines()]
    hits = [r for r in rej if r["reason"] == "contaminated"]
    assert [(r["detail"], r["rule"]) for r in hits] == [(f"{tests}:t1", "minhash")] * 2
    assert all(0.5 <= r["similarity"] < 1.0 for r in hits)
    assert st["rows"] == 2  # Tom's question survives
    cfg.decontam_sets = [str(tmp_path / "missing.jsonl")]
    with pytest.raises(FileNotFoundError, match="missing.jsonl"):
        run_augment(cfg, tmp_path / "run2", llm=ScriptedTeacher(load_seeds(cfg.seeds)[0], 1.0))

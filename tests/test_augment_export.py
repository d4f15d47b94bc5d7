"""`metamath augment --export-hf DIR`: a Parquet dataset with the data card as its README, read
back by the official `datasets` loader and by `metamath train data.path=DIR`; --push-to-hub gives
a clear error offline."""

from __future__ import annotations

import json

import pytest
import yaml

from metamath.cli import main

COMMON = [
    "augment",
    "--config",
    "configs/augment/quickstart.yaml",
    "teacher.backend=scripted",
    "seeds=[{name: gsm8k, limit: 6}, {name: math, limit: 4}]",
    "answer_aug.budget=uniform",
    "--no-progress",
]


@pytest.fixture(scope="module")
def exported(data_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("export")
    assert main([*COMMON, "--out", str(d / "run"), "--export-hf", str(d / "hf")]) == 0
    return d / "run", d / "hf"


def test_datasets_loads_the_export_with_the_metamathqa_schema(exported):
    datasets = pytest.importorskip("datasets")
    run, hf = exported
    rows = [json.loads(x) for x in (run / "metamathqa.jsonl").read_text().splitlines()]
    ds = datasets.load_dataset(str(hf), split="train")
    assert ds.column_names[:4] == ["query", "response", "type", "original_question"]
    assert {"id", "seed_id", "technique", "gold_source"} <= set(ds.column_names)
    assert len(ds) == len(rows) > 0
    got = {r["id"]: r for r in ds}
    for r in rows:
        assert got[r["id"]]["query"] == r["query"]
        assert got[r["id"]]["response"] == r["response"]
        assert got[r["id"]]["type"] == r["type"]


def test_the_readme_is_the_data_card_under_a_dataset_card_header(exported):
    run, hf = exported
    text = (hf / "README.md").read_text()
    head, body = text.split("---\n", 2)[1:]
    meta = yaml.safe_load(head)
    assert meta["configs"][0]["data_files"][0]["path"] == "data/train-*"
    assert meta["dataset_info"]["splits"][0]["num_examples"] == len(
        (run / "metamathqa.jsonl").read_text().splitlines()
    )
    assert body.strip() == (run / "DATA_CARD.md").read_text().strip()
    assert "## Budgets and coverage" in body


def test_metamath_train_reads_the_export_back(exported):
    pytest.importorskip("datasets")
    from metamath.train.config import DataConfig
    from metamath.train.data import read_rows

    run, hf = exported
    rows, bad = read_rows(DataConfig(path=[str(hf)]))
    want = [json.loads(x) for x in (run / "metamathqa.jsonl").read_text().splitlines()]
    assert not bad and [(q, r) for _, q, r in rows] == [(w["query"], w["response"]) for w in want]


def test_push_to_hub_offline_is_a_clear_error(exported, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    run, _ = exported
    rc = main(
        [*COMMON, "--out", str(run), "--export-hf", str(tmp_path / "hf"), "--push-to-hub", "me/x"]
    )
    err = capsys.readouterr().err
    assert rc != 0 and "--push-to-hub me/x" in err and "HF_HUB_OFFLINE" in err
    assert (tmp_path / "hf" / "README.md").exists()  # the export itself was written
    assert main([*COMMON, "--out", str(run), "--push-to-hub", "me/x"]) != 0
    assert "needs --export-hf" in capsys.readouterr().err


@pytest.mark.slow
def test_metamath_train_runs_on_the_export(exported, tiny_model_dir, tmp_path):
    """The CLI end to end: `metamath train data.path=DIR` trains two steps on the export."""
    pytest.importorskip("datasets")
    from pathlib import Path

    run, hf = exported
    repo = Path(__file__).resolve().parent.parent
    argv = [
        "train",
        "--config",
        str(repo / "configs/train/tiny_cpu.yaml"),
        "--run-dir",
        str(tmp_path / "train"),
        f"model={tiny_model_dir}",
        f"data.path={hf}",
        "data.query_field=query",
        "data.response_field=response",
        "data.limit=null",
        f"data.cache_dir={tmp_path / 'cache'}",
        "global_batch_size=4",
        "micro_batch_size=4",
        "max_length=384",
        "max_steps=2",
        "save_steps=0",
    ]
    assert main(argv) == 0
    report = json.loads((tmp_path / "train" / "data_report.json").read_text())
    n = len((run / "metamathqa.jsonl").read_text().splitlines())
    assert report["rows"] == n, report

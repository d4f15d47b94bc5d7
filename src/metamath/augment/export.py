"""The kept rows as a Hugging Face dataset people can load, with the data card as its README.

    export_hf("runs/aug", "runs/aug-hf")        # data/train-0000N-of-0000M.parquet + README.md
    push_to_hub("runs/aug-hf", "me/my-metamathqa")   # needs the network and $HF_TOKEN
    datasets.load_dataset("runs/aug-hf", split="train")    # or: metamath train data.path=DIR

Columns: MetaMathQA's own (query, response, type, original_question, in that order, so code
written for meta-math/MetaMathQA reads it unchanged), then our provenance: id, seed_id,
technique, target, prompt_version, gold_source (given | vote). README.md is DATA_CARD.md under
a dataset-card YAML header (configs/data_files so `load_dataset(DIR)` finds the split,
dataset_info features, tags, size category). Rows are streamed from metamathqa.jsonl into
Parquet shards of SHARD_ROWS with pyarrow (batches of BATCH rows: memory stays flat). Not
datasets.Dataset.from_generator: it caches by the generator and its arguments, not the file's
content, so re-exporting a grown run into the same place could hand back the old rows.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import yaml

from metamath.records import Example, field_names

COLUMNS = field_names(Example)  # MetaMathQA's four, provenance
SHARD_ROWS = 200_000
BATCH = 10_000


def _rows(path: Path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                yield {c: (str(r[c]) if r.get(c) is not None else None) for c in COLUMNS}


def _size_category(n: int) -> str:
    for hi, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if n < hi:
            return name
    return "100K<n<1M" if n < 1_000_000 else "1M<n<10M"


def card_header(rows: int, n_bytes: int) -> str:
    meta = {
        "configs": [
            {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
        ],
        "dataset_info": {
            "features": [{"name": c, "dtype": "string"} for c in COLUMNS],
            "splits": [{"name": "train", "num_examples": rows, "num_bytes": n_bytes}],
        },
        "task_categories": ["text-generation", "question-answering"],
        "language": ["en"],
        "tags": ["synthetic", "mathematics", "metamath"],
        "pretty_name": "MetaMathQA-style augmentation",
        "size_categories": [_size_category(rows)],
    }
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n\n"


def export_hf(run_dir: str | Path, out_dir: str | Path) -> dict:
    """Write run_dir's kept rows as a Parquet dataset in out_dir; returns {rows, files}."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise RuntimeError(
            "--export-hf needs pyarrow (with `datasets`): pip install 'metamath[train]'"
        ) from e
    run_dir, out = Path(run_dir), Path(out_dir)
    src = run_dir / "metamathqa.jsonl"
    if not src.exists():
        raise FileNotFoundError(f"{src}: no augmentation output to export (run augment first)")
    with open(src, "rb") as f:
        total = sum(1 for line in f if line.strip())
    schema = pa.schema([(c, pa.string()) for c in COLUMNS])
    data = out / "data"
    if data.exists():
        shutil.rmtree(data)  # a re-export replaces the old shards, never mixes with them
    data.mkdir(parents=True)
    n = max(1, -(-total // SHARD_ROWS))
    files = [data / f"train-{i:05d}-of-{n:05d}.parquet" for i in range(n)]
    rows = _rows(src)
    for f in files:
        with pq.ParquetWriter(str(f), schema) as w:
            left = SHARD_ROWS
            while left:
                batch = [r for _, r in zip(range(min(BATCH, left)), rows, strict=False)]
                if not batch:
                    break
                w.write_table(pa.Table.from_pylist(batch, schema=schema))
                left -= len(batch)
    card = (run_dir / "DATA_CARD.md").read_text() if (run_dir / "DATA_CARD.md").exists() else ""
    n_bytes = sum(f.stat().st_size for f in files)
    (out / "README.md").write_text(card_header(total, n_bytes) + card, encoding="utf-8")
    return {"rows": total, "files": [str(f) for f in files]}


def push_to_hub(out_dir: str | Path, repo: str, private: bool = False) -> str:
    """Upload an exported folder as a dataset repo; a clear error when offline or unauthorised."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise RuntimeError(
            f"--push-to-hub {repo}: HF_HUB_OFFLINE is set, so nothing can be uploaded; the "
            f"dataset is in {out_dir}; push it later with "
            f"`huggingface-cli upload {repo} {out_dir} --repo-type dataset`"
        )
    from huggingface_hub import HfApi

    api = HfApi(token=os.environ.get("HF_TOKEN"))
    try:
        api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True)
        info = api.upload_folder(repo_id=repo, folder_path=str(out_dir), repo_type="dataset")
    except Exception as e:  # no network, no token, no permission: one clear message
        raise RuntimeError(
            f"--push-to-hub {repo}: the upload failed ({type(e).__name__}: {str(e)[:200]}); "
            f"the dataset is in {out_dir}; check the network and $HF_TOKEN, then run "
            f"`huggingface-cli upload {repo} {out_dir} --repo-type dataset`"
        ) from e
    return str(getattr(info, "commit_url", info))

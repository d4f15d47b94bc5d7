"""Sharded training for real: `accelerate launch` with the shipped configs in
configs/train/accelerate/ (fsdp_8gpu.yaml: FSDP2, full shard, sharded checkpoints;
deepspeed_zero3.yaml: ZeRO-3), changed only to 2 processes, runs `metamath train` on the tiny model
over 2 CPU processes (gloo) with the losses of one process, writes a sharded checkpoint that
resumes exactly, and saves a final model plain transformers loads; FSDP for a full fine-tune and
LoRA. Slow (two launches each); CI runs them."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("accelerate")
yaml = pytest.importorskip("yaml")

from metamath.train import load_train_config, run_train  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ACCELERATE = REPO / "configs" / "train" / "accelerate"


@pytest.fixture(scope="module")
def gsm_file(data_dir, tmp_path_factory):
    """The first 64 GSM8K train rows in MetaMathQA form (a temp copy, never committed)."""
    out = tmp_path_factory.mktemp("gsm") / "gsm8k_train64.jsonl"
    with open(data_dir / "gsm8k" / "train.jsonl", encoding="utf-8") as f, open(out, "w") as w:
        for line in islice(f, 64):
            r = json.loads(line)
            w.write(json.dumps({"query": r["question"], "response": r["answer"]}) + "\n")
    return out


def launch_config(src: Path, out: Path, processes: int) -> Path:
    """The shipped launch config with only the process count (and a free port) changed."""
    cfg = yaml.safe_load(src.read_text())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg.update(num_processes=processes, main_process_port=port)
    out.write_text(yaml.safe_dump(cfg))
    return out


def overrides(model, data, tmp_path, recipe, extra=()):
    return [
        f"model={model}",
        f"data.path={data}",
        "data.query_field=query",
        "data.response_field=response",
        "data.limit=null",
        f"data.cache_dir={tmp_path / 'cache'}",
        "global_batch_size=4",
        "micro_batch_size=2",
        "max_length=384",
        "max_steps=4",
        "save_steps=2",
        *(["lora.dropout=0.0"] if "lora" in recipe else []),  # dropout streams differ per process
        *extra,
    ]


def _failure(stderr: str) -> str:
    """The lines that say why a launch failed (each rank's error, wherever it is in the log),
    then the log's end: the end alone is the launcher's summary, not the cause."""
    cues = ("Error", "error:", "terminate", "Traceback", "Aborted", "what():", "Exception")
    lines = [ln for ln in stderr.splitlines() if any(c in ln for c in cues)]
    return "\n".join(lines[:60]) + "\n--- end of stderr ---\n" + stderr[-3000:]


def accelerate_train(acc: Path, recipe: str, run: Path, args: list[str], cwd: Path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [
        *(sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(acc)),
        *("-m", "metamath", "train", "--config", str(REPO / "configs/train" / recipe)),
        *("--run-dir", str(run), *args),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=cwd)
    assert p.returncode == 0, _failure(p.stderr)
    return json.loads((run / "stats.json").read_text())


def weights(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(path)


def _deepspeed_runs() -> str | None:
    """Why DeepSpeed cannot run here, or None. Its CPU backend compiles a shared-memory
    communication op with the system C++ compiler on first use."""
    if importlib.util.find_spec("deepspeed") is None:
        return "deepspeed is not installed (pip install deepspeed)"
    if shutil.which("c++") is None:
        return "DeepSpeed's CPU backend compiles an op at first use and no C++ compiler was found"
    return None


# The per-rank files of a sharded checkpoint at step 2, by engine.
SHARDS = {
    "FSDP": [
        f"{part}/__{rank}_0.distcp"
        for part in ("pytorch_model_fsdp_0", "optimizer_0")
        for rank in (0, 1)
    ],
    "DEEPSPEED": [
        f"pytorch_model/zero_pp_rank_{rank}_mp_rank_00_{kind}_states.pt"
        for rank in (0, 1)
        for kind in ("model", "optim")
    ],
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "launch,recipe",
    [
        ("fsdp_8gpu.yaml", "tiny_cpu.yaml"),
        ("fsdp_8gpu.yaml", "tiny_lora_cpu.yaml"),
        ("deepspeed_zero3.yaml", "tiny_cpu.yaml"),
    ],
)
def test_sharded_training_on_two_cpu_processes(tiny_model_dir, gsm_file, tmp_path, launch, recipe):
    lora = "lora" in recipe
    engine = "DEEPSPEED" if "deepspeed" in launch else "FSDP"
    if engine == "DEEPSPEED" and (why := _deepspeed_runs()):
        pytest.skip(why)
    acc = launch_config(ACCELERATE / launch, tmp_path / "launch.yaml", 2)
    args = overrides(tiny_model_dir, gsm_file, tmp_path, recipe)
    run = tmp_path / "sharded"
    stats = accelerate_train(acc, recipe, run, args, tmp_path)
    assert stats["distributed"] == engine and stats["processes"] == 2  # sharded, not DDP
    assert stats["grad_accum"] == 1

    # the checkpoint is sharded: one file per rank for the model and for the optimizer
    ckpt = run / "checkpoints" / "step-0000002"
    for shard in SHARDS[engine]:
        assert (ckpt / shard).exists(), shard
    assert not (ckpt / "model.safetensors").exists()

    # one process (two micro-batches of accumulation) trains the same steps
    cfg = load_train_config(REPO / "configs/train" / recipe, args)
    one = run_train(cfg, tmp_path / "one")
    assert one["processes"] == 1 and one["grad_accum"] == 2
    assert stats["losses"] == pytest.approx(one["losses"], abs=1e-4)

    # a run stopped after its step-2 checkpoint resumes from the shards to the same end
    stopped = tmp_path / "stopped"
    shutil.copytree(run, stopped, ignore=shutil.ignore_patterns("model", "adapter", "stats.json"))
    again = accelerate_train(acc, recipe, stopped, args, tmp_path)
    assert again["resumed_from_step"] == 2
    assert again["losses"] == pytest.approx(stats["losses"][2:], abs=1e-6)

    # the final model is gathered from the shards: plain transformers loads it, and it holds the
    # single-process run's weights
    from transformers import AutoModelForCausalLM, AutoTokenizer

    final = weights(run / "model" / "model.safetensors")
    assert set(final) == set(weights(tmp_path / "one" / "model" / "model.safetensors"))
    for name, w in weights(tmp_path / "one" / "model" / "model.safetensors").items():
        assert torch.allclose(final[name], w, atol=1e-4), name
    for name, w in weights(stopped / "model" / "model.safetensors").items():
        assert torch.allclose(final[name], w, atol=1e-6), name
    model = AutoModelForCausalLM.from_pretrained(run / "model")
    tok = AutoTokenizer.from_pretrained(run / "model")
    assert torch.isfinite(model(**tok("What is 2+3?", return_tensors="pt")).logits).all()
    if lora:  # the adapter holds every LoRA matrix, whole (not one rank's shard)
        adapter = weights(run / "adapter" / "adapter_model.safetensors")
        single = weights(tmp_path / "one" / "adapter" / "adapter_model.safetensors")
        assert set(adapter) == set(single) and any("lora_A" in k for k in adapter)
        assert all(adapter[k].shape == single[k].shape for k in adapter)

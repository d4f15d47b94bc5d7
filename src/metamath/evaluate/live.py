"""Evaluate a live model (a training run's, between optimizer steps) with `metamath eval`'s
prompt and grader. The training stage does not import this: the caller builds the evaluator
and hands it to run_train (`metamath train` does), so the stages stay apart.

    from metamath.evaluate.live import for_training
    run_train(cfg, run_dir, evaluate=for_training(cfg))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from metamath.evaluate.config import EvalConfig
from metamath.evaluate.run import run_eval
from metamath.prompts.styles import EVAL_STYLE_OF_TRAIN


def for_training(train_cfg: Any):  # noqa: ANN201 - returns metamath.train.sft.Evaluate
    """evaluate(model, tokenizer, step, out_dir) -> {task: accuracy} for a training config
    (its `eval` section, `prompt_style` and `model`): the prompt the model trains with, the
    tasks and budget of train_cfg.eval, the whole run (samples.jsonl, report) in out_dir."""
    e = train_cfg.eval
    prompt_style, alpaca_style = EVAL_STYLE_OF_TRAIN[train_cfg.prompt_style]
    options: dict[str, Any] = {"static_cache": False, "compile": False, "progress": False}
    if e.batch_size:
        options["batch_size"] = e.batch_size

    def evaluate(model: Any, tokenizer: Any, step: int, out_dir: Path) -> dict[str, float]:
        from metamath.llm.hf import HFLLM

        cfg = EvalConfig(
            model=f"{train_cfg.model} (step {step})",
            tasks=list(e.tasks),
            limit=e.limit,
            data_path=e.data_path,
            prompt_style=prompt_style,
            alpaca_style=alpaca_style,
            cache=False,
            report_examples=3,
        )
        cfg.decoding.max_tokens = e.max_tokens
        llm = HFLLM.from_objects(model, tokenizer, name=cfg.model, **options)
        res = run_eval(cfg, out_dir, llm=llm, progress=False)
        return {t: s["accuracy"] for t, s in res["summary"].items()}

    return evaluate

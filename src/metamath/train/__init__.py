"""Fine-tuning (SFT) on MetaMathQA-format data: format (prompt, label mask, packing), data
(tokenise once, cached; length policy), sft (the recipe, a plain accelerate loop).

    from metamath.train import load_train_config, run_train
    run_train(load_train_config("configs/train/tiny_cpu.yaml"), "runs/tiny")
"""

from metamath.train.config import DataConfig, LoraConfig, TrainConfig, load_train_config


def run_train(cfg: TrainConfig, run_dir):  # noqa: ANN201 - lazy import keeps torch out of import
    """Train per cfg into run_dir; see metamath.train.sft.run_train."""
    from metamath.train.sft import run_train as _run

    return _run(cfg, run_dir)


__all__ = ["DataConfig", "LoraConfig", "TrainConfig", "load_train_config", "run_train"]

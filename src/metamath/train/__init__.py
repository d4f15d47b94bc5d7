"""Fine-tuning (SFT) on MetaMathQA-format data: format (prompt, label mask, packing), data
(tokenise once, cached; length policy), sft (the recipe, a plain accelerate loop).

    from metamath.train import load_train_config, run_train
    run_train(load_train_config("configs/train/tiny_cpu.yaml"), "runs/tiny")

Importing this package loads no torch: every module imports it inside the functions that use it.
"""

from metamath.train.config import DataConfig, LoraConfig, TrainConfig, load_train_config
from metamath.train.sft import run_train

__all__ = ["DataConfig", "LoraConfig", "TrainConfig", "load_train_config", "run_train"]

"""Every prompt-style vocabulary, defined once (configs use these as their Literal types).

Four knobs choose a prompt, each at its own level:

- AlpacaStyle (prompts/alpaca.py): which variant of the Alpaca template. "metamath" (ours, the
  same text in training and evaluation), "original_train" and "original_eval" (the released
  trainer's and evaluator's quirks, for exact reproduction).
- TrainStyle (train `prompt_style`): "metamath" (the Alpaca prompt), "original" (the released
  trainer's Alpaca variant), "chat" (the tokenizer's chat template).
- EvalStyle (eval `prompt_style`): "alpaca" (with an AlpacaStyle), "chat", "fewshot", "lm_eval".
- AugmentStyle (augment `style`): how a teacher is asked, "chat" (messages) or "completion"
  (one prompt string, for base models).

EVAL_STYLE_OF_TRAIN says how a model trained with a TrainStyle is evaluated on its own prompt
(in-training evaluation uses it): (EvalStyle, AlpacaStyle).
"""

from __future__ import annotations

from typing import Literal, get_args

AlpacaStyle = Literal["metamath", "original_train", "original_eval"]
TrainStyle = Literal["metamath", "original", "chat"]
EvalStyle = Literal["alpaca", "chat", "fewshot", "lm_eval"]
AugmentStyle = Literal["chat", "completion"]

ALPACA_STYLES: tuple[str, ...] = get_args(AlpacaStyle)
TRAIN_STYLES: tuple[str, ...] = get_args(TrainStyle)
EVAL_STYLES: tuple[str, ...] = get_args(EvalStyle)
AUGMENT_STYLES: tuple[str, ...] = get_args(AugmentStyle)

# the prompt a model trains with; the released code's own eval prompt for "original"
EVAL_STYLE_OF_TRAIN: dict[str, tuple[str, str]] = {
    "metamath": ("alpaca", "metamath"),
    "original": ("alpaca", "original_eval"),
    "chat": ("chat", "metamath"),
}


def style_error(style: str, styles: tuple[str, ...], key: str) -> ValueError:
    """The error for a `style` that is not one of `styles`: names the key, value and choices."""
    return ValueError(f"{key}={style!r}: use one of {', '.join(styles)}")

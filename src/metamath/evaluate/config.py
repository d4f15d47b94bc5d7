"""The evaluation config: one dataclass tree, filled from configs/eval/*.yaml and key=value
overrides (metamath.config.load_config), checked once by EvalConfig.check().

    cfg = load_config(EvalConfig, "configs/eval/metamath_paper.yaml", ["model=./ckpt"])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from metamath.config import ConfigError, check_literals
from metamath.prompts.styles import AlpacaStyle, EvalStyle

Backend = Literal["hf", "vllm", "openai"]


@dataclass
class DecodingConfig:
    temperature: float = 0.0  # greedy, as the paper (eval_gsm8k.py: temperature 0, top_p 1)
    top_p: float = 1.0
    n: int = 1  # samples per problem; n > 1 (with temperature > 0) reports pass@k and maj@k
    max_tokens: int | None = None  # None: the task's (512 GSM8K, 2048 MATH, as the paper)
    seed: int | None = 0
    stop: list[str] | None = None  # None: the prompt style's default (prompting.DEFAULT_STOP)
    k: list[int] = field(default_factory=lambda: [1])  # pass@k / maj@k cut-offs (n is added)


@dataclass
class EvalConfig:
    # the names these keys had before (still read, with a warning): one name per knob across
    # commands (`options` as augment's teacher.options, `grade_mode` as augment's and grade's)
    RENAMED: ClassVar[dict[str, str]] = {"backend_options": "options", "primary": "grade_mode"}

    model: str = ""
    backend: Backend = "hf"
    options: dict[str, Any] = field(default_factory=dict)  # to the backend (metamath.llm.open)
    tasks: list[str] = field(default_factory=lambda: ["gsm8k", "math"])
    task_files: dict[str, Any] = field(default_factory=dict)  # name -> {path, grader, fields}
    limit: int | None = None  # first N problems of each task
    data_path: str | None = None  # data dir or file; default $METAMATH_DATA, then the Hub
    prompt_style: EvalStyle = "alpaca"  # alpaca | chat | fewshot | lm_eval (lm-eval's gsm8k)
    # metamath.prompts.alpaca style. Default: the prompt `metamath train` trains with, so a model
    # is evaluated on the text it saw; the paper's eval prompt is "original_eval"
    # (configs/eval/metamath_paper.yaml), for models trained by the released code.
    alpaca_style: AlpacaStyle = "metamath"
    system_prompt: str | None = None  # chat style only
    fewshot_k: int | None = None  # default 8 (GSM8K) / 4 (MATH)
    # which grader mode fills `correct` (results.json calls the chosen one `primary`)
    grade_mode: Literal["auto", "strict", "flexible"] = "auto"
    decoding: DecodingConfig = field(default_factory=DecodingConfig)
    cache: bool = True
    report_examples: int = 5  # failures shown per task in the report
    max_row_bytes: int = 1 << 20  # a task file row larger than this is an error, never parsed
    # grade every sample with math-verify too; results.json and the report say where it
    # disagrees with ours (metamath.answers.audit), so a score is checked before it is trusted
    audit: bool = True

    def check(self) -> None:
        """ConfigError naming the key, the value and the fix; changes nothing."""
        check_literals(self)
        if self.decoding.n > 1 and self.decoding.temperature == 0:
            raise ConfigError(
                f"decoding.n={self.decoding.n} with temperature 0 gives n copies of "
                "the greedy answer; set decoding.temperature (e.g. 0.7)"
            )
        if not self.tasks:
            raise ConfigError("tasks is empty; e.g. tasks=gsm8k,math500")
        if self.prompt_style == "lm_eval" and self.tasks != ["gsm8k"]:
            raise ConfigError(
                f"prompt_style=lm_eval reproduces lm-evaluation-harness's gsm8k task; "
                f"tasks={self.tasks}: use --tasks gsm8k"
            )
        if len(set(self.tasks)) != len(self.tasks):
            raise ConfigError(f"tasks={self.tasks}: a task is listed twice")

    def resolved_grade_mode(self) -> str:
        """grade_mode with "auto" resolved. The paper's number is strict ("The answer is:"
        only); a model prompted any other way was never taught that marker, so it is judged by
        the flexible grader."""
        if self.grade_mode != "auto":
            return self.grade_mode
        return "strict" if self.prompt_style == "alpaca" else "flexible"

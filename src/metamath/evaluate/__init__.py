"""Evaluation stage: tasks (a dict of versioned EvalTask), run (generate -> grade -> write),
report (report.md + self-contained report.html), compare (paired test between two runs).

    from metamath.evaluate import EvalConfig, run_eval
    results = run_eval(EvalConfig(model="./ckpt", tasks=["gsm8k", "math500"]), "runs/eval/ckpt")
"""

from metamath.evaluate.compare import compare_runs
from metamath.evaluate.config import DecodingConfig, EvalConfig
from metamath.evaluate.run import run_eval, score, score_file
from metamath.tasks import TASKS, EvalTask, get_task

__all__ = [
    "TASKS",
    "DecodingConfig",
    "EvalConfig",
    "EvalTask",
    "compare_runs",
    "get_task",
    "run_eval",
    "score",
    "score_file",
]

"""Benchmark tasks as data: a dict of versioned EvalTask, plus any JSONL with a field mapping.

A building block beside metamath.data (not inside the evaluate stage): `metamath eval`, the
accuracy measured during training and the CLI's input checks all name tasks, and a stage may
not import another.

    from metamath.tasks import TASKS, get_task
    task = get_task("math500")                  # a built-in task
    probs = task.load(limit=20)                 # the first 20 problems (a ProblemSet)
    svamp = EvalTask.from_file("svamp", "svamp.jsonl", question="Body", answer="Answer")

A task names its dataset, the grader it uses (metamath.answers task: "gsm8k", "math",
"gsm8k_backward"), the paper's decoding budget, and its expected size. `version` changes
whenever anything that can move a score changes (data, prompt, grader key); results.json
records it together with a hash of the problems actually scored (`content_hash`), so two runs
are comparable exactly when both agree (the lm-evaluation-harness convention).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from metamath.answers.extract import GRADERS
from metamath.data import ProblemSet, load, load_file
from metamath.io import MAX_ROW_BYTES, nearby

# How `metamath eval` takes a file instead of a named dataset (for the not-found message).
FILE_HINT = (
    "evaluate your own file: --tasks my.jsonl (JSONL with question and answer fields; other "
    "names via task_files.NAME.question=... task_files.NAME.answer=...), or point at a data "
    "directory: data_path=/path/to/data"
)


@dataclass(frozen=True)
class EvalTask:
    name: str
    grader: str  # metamath.answers task key
    version: str
    dataset: str | None = None  # metamath.data.load name; None for a file task
    split: str = "test"
    path: str | None = None  # a user's file (JSONL/JSON/Parquet) instead of a named dataset
    fields: dict[str, Any] = field(default_factory=dict)  # load_file field mapping
    max_tokens: int = 512  # paper: 512 for GSM8K, 2048 for MATH (eval_gsm8k.py/eval_math.py)
    fewshot: str = "gsm8k"  # which exemplar set the few-shot style uses ("gsm8k" or "math")
    expected_size: int | None = None  # full-size check; a mismatch is recorded in results.json
    description: str = ""

    def __post_init__(self) -> None:
        if self.grader not in GRADERS:
            raise ValueError(
                f"task {self.name!r}: grader={self.grader!r}; use one of {', '.join(GRADERS)}"
            )
        if (self.dataset is None) == (self.path is None):
            raise ValueError(f"task {self.name!r}: give exactly one of dataset or path")

    def load(
        self,
        limit: int | None = None,
        data_path: str | None = None,
        max_row_bytes: int | None = MAX_ROW_BYTES,
    ) -> ProblemSet:
        """The task's problems, in file order; `limit` keeps the first N (a fixed, documented
        subset, so 20-problem runs are comparable). A row larger than max_row_bytes is an
        error naming its line, found before the row is parsed."""
        if self.path is not None:
            ps = load_file(self.path, source=self.name, max_row_bytes=max_row_bytes, **self.fields)
            if limit is not None:
                ps = ProblemSet(ps[:limit], source=ps.source, path=ps.path, skipped=ps.skipped)
            return ps
        return load(
            self.dataset,
            self.split,
            path=data_path,
            limit=limit,
            how_to_pass=FILE_HINT,
            max_row_bytes=max_row_bytes,
        )

    @classmethod
    def from_file(
        cls,
        name: str,
        path: str | Path,
        *,
        grader: str = "gsm8k",
        max_tokens: int | None = None,
        version: str = "1",
        **fields: Any,
    ) -> EvalTask:
        """A task from any JSONL/JSON/Parquet file; `fields` are metamath.data.load_file's
        (question=, answer=, answer_format=, id_field=, level=, subject=...)."""
        p = Path(path)
        if not p.exists():
            raise FileNotFoundError(f"task {name!r}: file {p} does not exist{nearby(p)}")
        # Version a file task by its bytes: an edited file is a different task.
        digest = hashlib.sha256(p.read_bytes()).hexdigest()[:12]
        return cls(
            name=name,
            grader=grader,
            version=f"{version}+file.{digest}",
            path=str(p),
            fields=fields,
            max_tokens=max_tokens or (2048 if grader == "math" else 512),
            fewshot="math" if grader == "math" else "gsm8k",
            description=f"user file {p}",
        )


# The built-in tasks. Sizes from the method reference (§4) and the dataset cards; max_tokens
# as the paper (eval_gsm8k.py: 512, eval_math.py: 2048). (name, grader, max_tokens, size, what)
_BUILTIN = (
    ("gsm8k", "gsm8k", 512, 1319, "GSM8K test (Cobbe et al. 2021); gold after ####"),
    ("math", "math", 2048, 5000, "MATH test (Hendrycks et al. 2021); gold in the last \\boxed{}"),
    ("math500", "math", 2048, 500, "MATH-500 (the PRM800K test subset of MATH)"),
    (
        "gsm8k_backward",
        "gsm8k_backward",
        512,
        1270,
        "GSM8K-Backward (MetaMath paper Fig. 6): find the masked number x",
    ),
)
TASKS: dict[str, EvalTask] = {
    name: EvalTask(
        name=name,
        grader=grader,
        version="1",
        dataset=name,
        max_tokens=max_tokens,
        fewshot="math" if grader == "math" else "gsm8k",
        expected_size=size,
        description=what,
    )
    for name, grader, max_tokens, size, what in _BUILTIN
}


def get_task(spec: str, files: dict[str, dict[str, Any]] | None = None) -> EvalTask:
    """A task by name: a built-in, a name defined in `files` (name -> {path, grader, fields...}),
    or a path to a JSONL file with `question` and `answer` fields (plain final answers)."""
    files = files or {}
    if spec in files:
        opts = dict(files[spec])
        if "path" not in opts:
            raise ValueError(
                f"task_files.{spec}: needs a 'path' (and optionally grader, "
                "question, answer, answer_format, id_field, level, subject)"
            )
        return EvalTask.from_file(spec, opts.pop("path"), **opts)
    if spec in TASKS:
        return TASKS[spec]
    if Path(spec).suffix.lower() in (".jsonl", ".json", ".parquet"):
        return EvalTask.from_file(Path(spec).stem, spec)
    import difflib

    lower = {t.lower(): t for t in TASKS}
    close = difflib.get_close_matches(spec.lower(), list(lower), n=1, cutoff=0.6)
    hint = f"did you mean {lower[close[0]]!r}? " if close else ""
    raise ValueError(
        f"unknown task {spec!r}: {hint}use one of {', '.join(TASKS)}, a .jsonl path, or "
        "define it under task_files in the eval config"
    )


def with_max_tokens(task: EvalTask, max_tokens: int | None) -> EvalTask:
    return task if max_tokens is None else replace(task, max_tokens=max_tokens)


def content_hash(problems: list) -> str:
    """A short hash of (id, question, gold) of the problems scored: two runs scored the same
    items exactly when their hashes agree."""
    h = hashlib.sha256()
    for p in problems:
        h.update(f"{p.id}\x1f{p.question}\x1f{p.gold}\x1e".encode())
    return h.hexdigest()[:16]

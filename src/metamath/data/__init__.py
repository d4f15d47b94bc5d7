"""Data loaders: GSM8K, MATH, MATH-500, GSM8K-Backward, and any JSONL/JSON/Parquet with a field map.

    from metamath.data import load
    test = load("gsm8k", split="test")            # $METAMATH_DATA/gsm8k/test.jsonl, else the Hub
    m500 = load("math500")
    mine = load_file("my.jsonl", question="problem", answer="final", answer_format="plain")

Gold answers are taken at load time: GSM8K after `####` (thousands commas removed), MATH from the
last `\\boxed{}`/`\\fbox{}` (brace matched). Bad rows (not UTF-8, not JSON, a missing or
mistyped field, larger than `max_row_bytes`) raise DataError naming file, line and field; with
skip_bad=True they are collected in `ProblemSet.skipped` instead, for the caller to record.
Text goes through metamath.io's boundary (BOM accepted, strings cleaned).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from metamath.answers.boxed import last_boxed
from metamath.data.paths import (  # noqa: F401  (public: where named datasets are found)
    _HUB,
    _LOCAL,
    DATASETS,
    DEFAULT_DATA_DIR,
    ENV_VAR,
    DataNotFoundError,
    data_dir,
    data_dirs,
    expand_data_path,
    file_in,
    hub_id,
    local_file,
    not_found_message,
)
from metamath.io import MAX_ROW_BYTES, DataError, read_records
from metamath.records import Problem

# Rows whose reference solution lost its final answer upstream, by unique_id. Both MATH train
# solutions end in an empty "\\boxed{}"; each argues that no number in the range is prime
# ("Therefore there are $\\boxed{}$ primes in that range" / "P+n is not prime for any n"), so the
# answer is 0 by the solution's own argument. Without this, load("math", "train") fails on the
# real file.
ERRATA = {
    "train/number_theory/7115.json": "0",
    "train/number_theory/7117.json": "0",
}


class ProblemSet(list):
    """A list of Problems plus where they came from and the rows skipped (with reasons)."""

    def __init__(
        self, items=(), *, source: str = "", path: str = "", skipped: list[DataError] | None = None
    ):
        super().__init__(items)
        self.source, self.path = source, path
        self.skipped: list[DataError] = skipped or []


# MATH's fields (MATH-500's on the Hub name the subject `subject`, the local files `type`)
MATH_FIELDS = dict(
    question="problem",
    answer="solution",
    answer_format="boxed",
    solution="solution",
    id_field="unique_id",
    level="level",
)


def gsm8k_gold(answer: str) -> str | None:
    """Final answer of a GSM8K solution: the text after the last '####', commas removed."""
    if "####" not in answer:
        return None
    gold = answer.rsplit("####", 1)[1].strip().replace(",", "")
    return gold or None


# GSM8K solutions carry calculator annotations ("<<48/2=24>>"); MetaMathQA responses do not.
_CALCULATOR = re.compile(r"<<[^<>]*>>")


def gsm8k_reasoning(solution: str) -> str:
    """The worked steps of a GSM8K solution: the text before the last '####', without the
    calculator annotations, stripped (the form MetaMathQA responses take)."""
    return _CALCULATOR.sub("", solution.rsplit("####", 1)[0]).strip()


def math_gold(solution: str) -> str | None:
    """Final answer of a MATH solution: the last \\boxed{}/\\fbox{} content, brace matched."""
    return last_boxed(solution)


_FORMATS = {
    "gsm8k": gsm8k_gold,
    "boxed": math_gold,
    "plain": lambda s: _plain_gold(s),
}
# Only whole thousands groups lose their commas: "1,234,567" is a number, "1,2" is a list.
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _plain_gold(s: str) -> str | None:
    s = s.strip()
    return s.replace(",", "") if _THOUSANDS.fullmatch(s) else (s or None)


def load_file(
    path: str | os.PathLike,
    *,
    question: str = "question",
    answer: str = "answer",
    answer_format: str = "plain",
    id_field: str | None = None,
    solution: str | None = None,
    level: str | None = None,
    subject: str | None = None,
    source: str | None = None,
    ids: set[str] | None = None,
    skip_bad: bool = False,
    keep_fields: tuple[str, ...] = (),
    max_row_bytes: int | None = MAX_ROW_BYTES,
    max_question_chars: int | None = None,
) -> ProblemSet:
    """Load any JSONL/JSON/Parquet file into Problems with a field mapping.

    answer_format: "gsm8k" (gold after ####), "boxed" (last \\boxed{}), or "plain" (the field is
    the final answer). `solution` names a field kept as the reference solution. `ids` keeps only
    the rows whose id is listed (used for MATH-500). `max_row_bytes` bounds a row before it
    is parsed, `max_question_chars` (None: no limit) the question text.
    """
    if answer_format not in _FORMATS:
        raise ValueError(f"answer_format={answer_format!r}: use one of {sorted(_FORMATS)}")
    path = Path(path)
    source = source or path.stem
    to_gold = _FORMATS[answer_format]
    out: list[Problem] = []
    skipped: list[DataError] = []
    rows = read_records(path, skip_bad=skip_bad, bad=skipped, max_bytes=max_row_bytes)
    for no, row in rows:
        try:
            p = _row_to_problem(
                path,
                no,
                row,
                question,
                answer,
                to_gold,
                id_field,
                solution,
                level,
                subject,
                source,
                keep_fields,
            )
            if max_question_chars is not None and len(p.question) > max_question_chars:
                raise DataError(
                    path,
                    no,
                    f"is {len(p.question):,} characters, over the limit of "
                    f"{max_question_chars:,} (max_question_chars); shorten it or raise the limit",
                    field=question,
                )
        except DataError as e:
            if not skip_bad:
                raise
            skipped.append(e)
            continue
        if ids is None or p.id in ids:
            out.append(p)
    skipped.sort(key=lambda e: e.line or 0)
    return ProblemSet(out, source=source, path=str(path), skipped=skipped)


def _row_to_problem(
    path,
    no,
    row: dict[str, Any],
    q_field,
    a_field,
    to_gold,
    id_field,
    sol_field,
    level_field,
    subject_field,
    source,
    keep_fields,
) -> Problem:
    def get(field: str) -> Any:
        if field not in row or row[field] is None:
            raise DataError(
                path,
                no,
                f"is missing (row has: {', '.join(sorted(row))}); pass the right field name",
                field=field,
            )
        return row[field]

    q = get(q_field)
    if not isinstance(q, str):
        raise DataError(path, no, f"is {type(q).__name__}, not text ({q!r:.60})", field=q_field)
    if not q.strip():
        raise DataError(path, no, "is empty; every problem needs question text", field=q_field)
    raw = get(a_field)
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise DataError(
            path, no, f"is {type(raw).__name__}, not text or a number ({raw!r:.60})", field=a_field
        )
    gold = to_gold(str(raw))
    if not gold and row.get(id_field or "") in ERRATA:
        gold = ERRATA[row[id_field]]
    if not gold:
        raise DataError(path, no, f"has no final answer ({str(raw)[-80:]!r})", field=a_field)
    pid = str(row[id_field]) if id_field and row.get(id_field) is not None else f"{source}/{no}"
    return Problem(
        id=pid,
        question=q.strip(),
        gold=gold,
        source=source,
        solution=str(row[sol_field]) if sol_field and row.get(sol_field) is not None else None,
        level=str(row[level_field]) if level_field and row.get(level_field) is not None else None,
        subject=(
            str(row[subject_field])
            if subject_field and row.get(subject_field) is not None
            else None
        ),
        meta={k: row[k] for k in keep_fields if k in row},
    )


def math500_ids(root: Path | None = None) -> set[str]:
    p = (root or data_dir()) / "math" / "math500_ids.txt"
    if not p.exists():
        raise FileNotFoundError(
            f"{p}: the MATH-500 id list is not found beside math/test.jsonl; put "
            f"math500_ids.txt there (one unique_id a line), or set {ENV_VAR} to a data "
            "directory that has it"
        )
    return {line.strip() for line in p.read_text().splitlines() if line.strip()}


def _load_local(name: str, path: Path, skip_bad: bool, **limits: Any) -> ProblemSet:
    """A named dataset's local file; `limits` (max_row_bytes, max_question_chars) go to
    load_file."""
    if name not in _LOCAL_FIELDS:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
    ids = math500_ids(path.parent.parent) if name == "math500" else None
    extra = {"ids": ids} if name in ("math", "math500") else {}
    ps = load_file(path, **_LOCAL_FIELDS[name], source=name, skip_bad=skip_bad, **extra, **limits)
    if name == "gsm8k":
        for i, p in enumerate(ps):  # stable ids: gsm8k/<split>/<line>
            ps[i] = _replace_id(p, f"gsm8k/{path.stem}/{p.id.rsplit('/', 1)[1]}")
    return ps


# Each named dataset's fields in its local file (load_file's field map).
_LOCAL_FIELDS: dict[str, dict[str, Any]] = {
    "gsm8k": {
        "question": "question",
        "answer": "answer",
        "answer_format": "gsm8k",
        "solution": "answer",
    },
    "math": {**MATH_FIELDS, "subject": "type"},
    "math500": {**MATH_FIELDS, "subject": "type"},
    "gsm8k_backward": {
        "question": "question",
        "answer": "answer",
        "answer_format": "plain",
        "keep_fields": ("original_question", "original_answer"),
    },
}


def _replace_id(p: Problem, new_id: str) -> Problem:
    import dataclasses

    return dataclasses.replace(p, id=new_id)


def load(
    name: str,
    split: str = "test",
    *,
    path: str | os.PathLike | None = None,
    limit: int | None = None,
    skip_bad: bool = False,
    how_to_pass: str = "",
    **limits: Any,
) -> ProblemSet:
    """Load a named dataset split (`limits`: load_file's max_row_bytes, max_question_chars).

    Resolution: an explicit `path` (file, or the data dir holding gsm8k/ and math/), else the
    data directory (data_dirs(): $METAMATH_DATA, else ../shared/data), else the Hugging Face Hub
    through `datasets`. `how_to_pass`: the caller's own way to give a file instead (its config
    keys), added to the not-found message.
    """
    if (name, split) not in _LOCAL:
        known = ", ".join(f"{n}:{s}" for n, s in _LOCAL)
        raise ValueError(f"unknown dataset/split {name}:{split}; known: {known}")
    rel = _LOCAL[(name, split)]
    if path is not None:
        p = Path(path)
        file = p / rel if p.is_dir() else p
    else:
        file = data_dir() / rel
    if file.exists():
        ps = _load_local(name, file, skip_bad, **limits)
    elif path is not None:
        raise FileNotFoundError(f"{file}: not found (expected the {name} {split} file)")
    else:
        ps = _load_hub(name, split, how_to_pass)
    if limit is not None:
        ps = ProblemSet(ps[:limit], source=ps.source, path=ps.path, skipped=ps.skipped)
    return ps


def _load_hub(name: str, split: str, how_to_pass: str = "") -> ProblemSet:
    repo, config = _HUB[name]

    def error(why: str) -> DataNotFoundError:
        return DataNotFoundError(not_found_message(name, split, why, how_to_pass))

    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise error(f"the Hub dataset {repo} was not tried (HF_HUB_OFFLINE is set)")
    try:
        import datasets
    except ImportError as e:
        raise error(
            f"the Hub dataset {repo} needs the datasets package (pip install 'metamath[train]')"
        ) from e
    try:
        if name == "math":
            configs = datasets.get_dataset_config_names(repo)
            ds = datasets.concatenate_datasets(
                [datasets.load_dataset(repo, c, split=split) for c in configs]
            )
        else:
            ds = datasets.load_dataset(repo, config, split=split)
    except Exception as e:  # network, auth, missing dataset: all end in the same advice
        raise error(
            f"the Hub dataset {repo} could not be loaded ({type(e).__name__}: {str(e)[:200]})"
        ) from e
    return _from_rows(name, split, list(ds))


def _from_rows(name: str, split: str, rows: list[dict[str, Any]]) -> ProblemSet:
    """Hub rows -> Problems, through the same validation as local files (via a temp JSONL)."""
    import json
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / f"{split}.jsonl"
        f.write_text("".join(json.dumps(r, default=str) + "\n" for r in rows))
        if name == "math500":
            return load_file(f, **MATH_FIELDS, subject="subject", source=name)
        return _load_local(name, f, skip_bad=False)

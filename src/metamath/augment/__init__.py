"""Question bootstrapping (MetaMath): AnsAug, Rephrasing, FOBAR and Self-Verification.

    from metamath.augment import AugmentConfig, run_augment
    stats = run_augment(cfg, "runs/aug")        # or: metamath augment --config configs/augment/X.yaml

Modules, in pipeline order: seeds (loaders, gold normalisation, seeds without answers), vote
(their gold by the teacher's agreement), answer_aug (few-shot demos from the train set),
backward (masking), fobar, rephrase and self_verification (the checks of the teacher's
rewrites), generate (the LLM stages, resumable), budget (fixed / uniform / prop2diff sampling
rounds), filter (grading, answer line), dedup, decontaminate and minhash (10-grams and
paraphrases vs the test sets), table, assemble and outputs (the dataset files), report, coverage
and card (stats, data card), export (Parquet dataset for the Hub), pipeline (run_augment,
merge_runs), scripted (a teacher for tests and dry runs), config (AugmentConfig, check(), the
work/ files). The rows between the stages are metamath.records: a graded sample is a Candidate,
a kept row an Example.
"""

from metamath.augment.config import AugmentConfig, SeedConfig, TeacherConfig, TechniqueConfig
from metamath.augment.pipeline import merge_runs, run_augment

__all__ = [
    "AugmentConfig",
    "SeedConfig",
    "TeacherConfig",
    "TechniqueConfig",
    "run_augment",
    "merge_runs",
]

"""Question bootstrapping (MetaMath): AnsAug, Rephrasing, FOBAR and Self-Verification.

    from metamath.augment import AugmentConfig, run_augment
    stats = run_augment(cfg, "runs/aug")        # or: metamath augment --config configs/augment/X.yaml

Modules, in pipeline order: seeds (loaders, gold normalisation, exemplars), backward (masking),
rephrase and self_verification (checks of the teacher's rewrites), generate (the LLM stages),
filter (grading, answer line), dedup, decontaminate, assemble (outputs), report (stats, card),
pipeline (run_augment, merge_runs), scripted (a teacher for tests and dry runs).
"""

from metamath.augment.config import AugmentConfig, SeedConfig, TeacherConfig, TechniqueConfig
from metamath.augment.pipeline import merge_runs, run_augment

__all__ = ["AugmentConfig", "SeedConfig", "TeacherConfig", "TechniqueConfig", "run_augment",
           "merge_runs"]

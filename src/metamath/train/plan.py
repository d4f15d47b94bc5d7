"""Which examples each process trains on at each optimizer step: a pure function of (seed,
epoch, step), so a resumed run replays exactly and any process count gives the same step."""

from __future__ import annotations

import math
from typing import Any

from metamath.train.config import TrainConfig
from metamath.train.data import TrainData
from metamath.train.format import n_targets


class StepPlan:
    """Which examples each process trains on at each optimizer step (deterministic)."""

    def __init__(self, data: TrainData, cfg: TrainConfig, world: int):
        import numpy as np

        self._np = np
        self.data, self.cfg, self.world = data, cfg, world
        g, m = cfg.global_batch_size, cfg.micro_batch_size
        if g % (m * world):
            raise ValueError(
                f"global_batch_size={g} must be a multiple of micro_batch_size={m} "
                f"x {world} process(es); e.g. global_batch_size={m * world * max(1, g // (m * world))}"
            )
        self.grad_accum = g // (m * world)
        self.steps_per_epoch = len(data) // g
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"only {len(data)} training examples, fewer than "
                f"global_batch_size={g}; lower global_batch_size"
            )
        self.total = (
            cfg.max_steps if cfg.max_steps > 0 else math.ceil(cfg.epochs * self.steps_per_epoch)
        )
        self._perm: dict[int, Any] = {}

    def examples(self, step: int) -> list[int]:
        """The global batch of step `step` (0-based): a per-epoch shuffle, sliced. The last
        partial batch of an epoch is left out (a new shuffle next epoch)."""
        epoch, i = divmod(step, self.steps_per_epoch)
        if epoch not in self._perm:
            self._perm = {
                epoch: self._np.random.default_rng(self.cfg.seed + epoch).permutation(
                    len(self.data)
                )
            }
        g = self.cfg.global_batch_size
        idx = [int(x) for x in self._perm[epoch][i * g : (i + 1) * g]]
        if not self.cfg.packing and self.cfg.group_by_length:
            # Similar lengths in a micro-batch waste less padding; the step's loss is a token
            # mean over the whole global batch, so the order inside it changes nothing else.
            idx.sort(key=lambda j: -len(self.data.ids[j]))
        return idx

    def micro_batches(self, step: int, rank: int) -> tuple[list[list[int]], int, int]:
        """This process's micro-batches, the step's trained-token count and total token count
        (all processes)."""
        idx = self.examples(step)
        m = self.cfg.micro_batch_size
        chunks = [idx[k : k + m] for k in range(0, len(idx), m)]
        mine = chunks[rank :: self.world]
        d = self.data
        targets = sum(n_targets(d.ids[j], d.prompt_lens[j]) for j in idx)
        tokens = sum(len(d.ids[j]) for j in idx)
        return mine, targets, tokens


def due(step: int, every: int, last: bool) -> bool:
    """Validation/evaluation schedule: every `every` steps (0: never) and at the last step."""
    return last or (every > 0 and step % every == 0)

"""A scripted teacher: answers right with a known probability, for tests, dry runs and the
overhead benchmark. It is NOT a model: it looks the right answer up in tables built from the
seeds (original questions, its own rephrasings, FOBAR and SV questions of every mask).

    teacher = ScriptedTeacher(seeds, p_correct=0.7, p_bad_rewrite=0.2)
    teacher = ScriptedTeacher(seeds, p_range=(0.02, 0.9))   # a solve rate per seed question
    run_augment(cfg, run_dir, llm=teacher)
    teacher.correct(query, i, seed)  # would sample i of this query be right? (for exact checks)

Every decision is a hash of (salt, query, sample index), so a resumed run sees the same replies.
A seeded request honours its seed the way the backends do (sample i of seed s is sample 0 of
seed s + i, the convention of the cache and the openai fan-out): the sample index a decision
hashes is seed + i, so a later round asking for more samples (seed + start) gets new ones.
Wrong answers are spread over many values, as a real model's are, so a vote can tell them from
the right one. For crash tests, two environment variables: METAMATH_SCRIPTED_LOG (append one
JSON line per request answered: id, seed, n) and METAMATH_SCRIPTED_DIE_AFTER=N (the process
kills itself with SIGKILL when asked for request N + 1: a real crash, no cleanup).
"""

from __future__ import annotations

import hashlib
import os
import signal
from collections.abc import Iterator, Sequence
from fractions import Fraction

from metamath.augment.backward import mask_question
from metamath.augment.seeds import Seed
from metamath.augment.self_verification import split_question
from metamath.io import JsonlWriter
from metamath.llm.base import Completion, Request, Result
from metamath.prompts.augment import fobar_question, sv_question

# Lead-ins that leave a clean question (a lead-in ending in ":" is a preamble and rejected)
_PHRASES = ("Solve this. ", "Work this out. ", "Try this. ", "One more. ")
_LABELS = ("\nAnswer:", "\nRephrased question:", "\nStatement:")


def rephrasing(question: str, i: int) -> str:
    return _PHRASES[i % len(_PHRASES)] + question


def statement(sentence: str, gold: str) -> str:
    return f"{sentence.rstrip('?.! ')} equals {gold}."


def wrong(answer: str, r: int = 0) -> str:
    """A different answer: the number plus 1 + r ("3/4" -> "7/4" for r = 0); for a LaTeX
    answer, a number it cannot equal (so grading stays on the fast path, as it does for most
    real answers)."""
    try:
        v = Fraction(answer) + 1 + r
    except (ValueError, ZeroDivisionError):
        return str(-987654321 - r)
    return str(v) if v.denominator == 1 or "/" in answer else str(float(v))


class ScriptedTeacher:
    def __init__(
        self,
        seeds: Sequence[Seed],
        p_correct: float = 0.7,
        p_bad_rewrite: float = 0.2,
        salt: str = "",
        fail_after: int | None = None,
        k_rewrite: int = 4,
        p_range: Sequence[float] | None = None,
        wrong_spread: int = 1000,
    ):
        """p_range=(lo, hi): each seed question (and every question derived from it) is solved
        with its own probability, spread evenly over [lo, hi] by a hash of its id; else every
        question with p_correct. wrong_spread: how many different wrong answers there are."""
        tag = f"p{p_correct}" if p_range is None else f"p{p_range[0]}-{p_range[1]}"
        self.model = f"scripted-{tag}"
        self.p_correct, self.p_bad, self.salt = p_correct, p_bad_rewrite, salt
        self.fail_after, self.served = fail_after, 0
        self.spread = max(1, wrong_spread)
        self.rates: dict[str, float] = {}  # seed id -> its solve rate
        # query -> (answer, backward?, solve rate)
        self.answers: dict[str, tuple[str, bool, float]] = {}
        for s in seeds:
            p = p_correct
            if p_range is not None:
                lo, hi = p_range
                p = self.rates[s.id] = lo + (hi - lo) * self._u("rate", s.id)
            self.answers[s.question] = (s.gold, False, p)
            for i in range(k_rewrite):
                self.answers[rephrasing(s.question, i)] = (s.gold, False, p)
            for m in mask_question(s.question, s.id, s.kind):
                self.answers[fobar_question(m.question, s.gold, m.var)] = (m.value, True, p)
                split = split_question(m.question, s.kind)
                if split:
                    q = sv_question(split[0], statement(split[1], s.gold), m.var)
                    self.answers[q] = (m.value, True, p)
        self._log = os.environ.get("METAMATH_SCRIPTED_LOG")
        die = os.environ.get("METAMATH_SCRIPTED_DIE_AFTER")
        self._die_after = int(die) if die else None

    def _u(self, *parts: object) -> float:
        h = hashlib.blake2b("\x00".join(map(str, (self.salt, *parts))).encode(), digest_size=8)
        return int.from_bytes(h.digest(), "big") / 2**64

    def rate(self, query: str) -> float:
        """The probability that a sample of this query is right (0 for an unknown query)."""
        got = self.answers.get(query)
        return got[2] if got else 0.0

    def correct(self, query: str, i: int, seed: int | None = None) -> bool:
        """Is sample i of a request with this seed right? (seed None: the unseeded sample i)"""
        return self._u("solve", query, (seed or 0) + i) < self.rate(query)

    def bad_rewrite(self, query: str, i: int) -> bool:
        return self._u("rewrite", query, i) < self.p_bad

    def _reply(self, text: str, i: int, seed: int | None = None) -> str:
        block = text.rsplit("Question: ", 1)[-1]
        label = max(_LABELS, key=block.rfind)
        query = block[: block.rfind(label)]
        if label == "\nRephrased question:":
            return query if self.bad_rewrite(query, i) else rephrasing(query, i)
        if label == "\nStatement:":
            sentence, gold = query.rsplit("\nAnswer: ", 1)
            return (
                f"The answer is {gold}."
                if self.bad_rewrite(query, i)
                else statement(sentence, gold)
            )
        answer, backward, _ = self.answers.get(query, ("0", False, 0.0))
        j = (seed or 0) + i  # the sample's identity (see the module docstring)
        if not self.correct(query, i, seed):
            answer = wrong(answer, int(self._u("wrong", query, j) * self.spread))
        tag = hashlib.blake2b(f"{query}/{j}".encode(), digest_size=6).hexdigest()
        steps = (
            f"We read the problem carefully (draft {tag}).\n"
            f"Working through sample {tag[:4]} step by step gives {answer}."
        )
        end = f"The value of x is {answer}." if backward else f"The answer is: {answer}"
        return f"{steps}\n{end}"

    def generate(self, requests: Sequence[Request]) -> Iterator[Result]:
        for req in requests:
            if self.fail_after is not None and self.served >= self.fail_after:
                raise RuntimeError("scripted teacher: simulated crash")
            if self._die_after is not None and self.served >= self._die_after:
                os.kill(os.getpid(), signal.SIGKILL)  # a real crash: nothing is cleaned up
            self.served += 1
            text = req.prompt if req.prompt is not None else req.messages[-1]["content"]
            comps = tuple(
                Completion(
                    text=(r := self._reply(text, i, req.seed)),
                    index=i,
                    prompt_tokens=len(text.split()),
                    completion_tokens=len(r.split()),
                )
                for i in range(req.n)
            )
            if self._log:
                with JsonlWriter(self._log) as f:
                    f.write({"id": req.id, "seed": req.seed, "n": req.n})
            yield Result(request=req, completions=comps)

    def close(self) -> None:
        pass

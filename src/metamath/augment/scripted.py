"""A scripted teacher: answers right with a known probability, for tests, dry runs and the
overhead benchmark. It is NOT a model: it looks the right answer up in tables built from the
seeds (original questions, its own rephrasings, FOBAR and SV questions of every mask).

    teacher = ScriptedTeacher(seeds, p_correct=0.7, p_bad_rewrite=0.2)
    run_augment(cfg, run_dir, llm=teacher)
    teacher.correct(query, i)     # would sample i of this query be right? (for exact checks)

Every decision is a hash of (salt, query, sample index), so a resumed run sees the same replies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from fractions import Fraction

from metamath.augment.backward import mask_question
from metamath.augment.seeds import Seed
from metamath.augment.self_verification import split_question
from metamath.llm.base import Completion, Request, Result
from metamath.prompts.augment import fobar_question, sv_question

# Lead-ins that leave a clean question (a lead-in ending in ":" is a preamble and rejected)
_PHRASES = ("Solve this. ", "Work this out. ", "Try this. ", "One more. ")
_LABELS = ("\nAnswer:", "\nRephrased question:", "\nStatement:")


def rephrasing(question: str, i: int) -> str:
    return _PHRASES[i % len(_PHRASES)] + question


def statement(sentence: str, gold: str) -> str:
    return f"{sentence.rstrip('?.! ')} equals {gold}."


def wrong(answer: str) -> str:
    """A different answer: the number plus one ("3/4" -> "7/4"); for a LaTeX answer, a number
    it cannot equal (so grading stays on the fast path, as it does for most real answers)."""
    try:
        v = Fraction(answer) + 1
    except (ValueError, ZeroDivisionError):
        return "-987654321"
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
    ):
        self.model = f"scripted-p{p_correct}"
        self.p_correct, self.p_bad, self.salt = p_correct, p_bad_rewrite, salt
        self.fail_after, self.served = fail_after, 0
        self.answers: dict[str, tuple[str, bool]] = {}  # query -> (answer, backward?)
        for s in seeds:
            self.answers[s.question] = (s.gold, False)
            for i in range(k_rewrite):
                self.answers[rephrasing(s.question, i)] = (s.gold, False)
            for m in mask_question(s.question, s.id, s.kind):
                self.answers[fobar_question(m.question, s.gold, m.var)] = (m.value, True)
                split = split_question(m.question, s.kind)
                if split:
                    q = sv_question(split[0], statement(split[1], s.gold), m.var)
                    self.answers[q] = (m.value, True)

    def _u(self, *parts: object) -> float:
        h = hashlib.blake2b("\x00".join(map(str, (self.salt, *parts))).encode(), digest_size=8)
        return int.from_bytes(h.digest(), "big") / 2**64

    def correct(self, query: str, i: int) -> bool:
        return query in self.answers and self._u("solve", query, i) < self.p_correct

    def bad_rewrite(self, query: str, i: int) -> bool:
        return self._u("rewrite", query, i) < self.p_bad

    def _reply(self, text: str, i: int) -> str:
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
        answer, backward = self.answers.get(query, ("0", False))
        if not self.correct(query, i):
            answer = wrong(answer)
        tag = hashlib.blake2b(f"{query}/{i}".encode(), digest_size=6).hexdigest()
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
            self.served += 1
            text = req.prompt if req.prompt is not None else req.messages[-1]["content"]
            comps = tuple(
                Completion(
                    text=(r := self._reply(text, i)),
                    index=i,
                    prompt_tokens=len(text.split()),
                    completion_tokens=len(r.split()),
                )
                for i in range(req.n)
            )
            yield Result(request=req, completions=comps)

    def close(self) -> None:
        pass

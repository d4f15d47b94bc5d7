"""Instructions and hand-written demos for the augmentation prompts (our own wording and problems;
the layout follows method reference 1.3-1.6). answer_aug demos are not here: they are drawn
from the seed train set at run time (augment/answer_aug.py).
"""

from __future__ import annotations

_SOLVE_END = (
    'Reason step by step, then end with a line of the form "The answer is: <final answer>".'
)
_BACK_END = (
    "Write an equation for the unknown variable, solve it step by step, and end with "
    'a line of the form "The value of {v} is <number>."'
)

SYSTEM = {
    "answer_aug": {
        "gsm8k": "You solve grade-school math word problems. " + _SOLVE_END,
        "math": (
            "You solve competition math problems. Put the final answer in \\boxed{} and "
            + _SOLVE_END[0].lower()
            + _SOLVE_END[1:]
        ),
    },
    "rephrase": {
        "gsm8k": (
            "You rewrite math word problems in different words. Keep every number, "
            "quantity and condition, and ask for the same thing. Reply with the rewritten "
            "problem only."
        ),
        "math": (
            "You rewrite math problems in different words. Keep every number, expression "
            "and condition (LaTeX unchanged), and ask for the same thing. Reply with the "
            "rewritten problem only."
        ),
    },
    "fobar": {
        "gsm8k": (
            "A word problem has one number replaced by the unknown variable x, and you are "
            "told the problem's answer. Find x. " + _BACK_END.format(v="x")
        ),
        "math": (
            "A math problem has one number replaced by the unknown variable X, and you are "
            "told the problem's answer. Find X. " + _BACK_END.format(v="X")
        ),
    },
    "sv_rewrite": {
        "gsm8k": (
            "Turn the question into a declarative sentence that states the given answer "
            "as a fact. Keep every other word's meaning, do not add reasoning, and do not "
            'write "The answer is". Reply with the sentence only.'
        ),
        "math": (
            "Turn the question into a declarative sentence that states the given answer "
            "as a fact. Keep LaTeX as it is, do not add reasoning, and do not write "
            '"The answer is". Reply with the sentence only.'
        ),
    },
    "self_verification": {
        "gsm8k": (
            "A word problem has one number replaced by the unknown variable x, and its "
            "result is stated as a fact. Find x. " + _BACK_END.format(v="x")
        ),
        "math": (
            "A math problem has one number replaced by the unknown variable X, and its "
            "result is stated as a fact. Find X. " + _BACK_END.format(v="X")
        ),
    },
}

_REPHRASE_GSM = (
    (
        "A baker fills 6 trays with 12 rolls each and sells 50 rolls. How many rolls are left?",
        "There are 6 trays, and each one holds 12 rolls. After 50 rolls have been sold, how many "
        "rolls remain?",
    ),
    (
        "Maya reads 15 pages a day. How many days does she need to finish a 225-page book?",
        "A book has 225 pages, and Maya gets through 15 of them every day. In how many days will "
        "she have read the whole book?",
    ),
    (
        "A ticket costs $8 and a drink costs $3. What do 4 tickets and 2 drinks cost in total?",
        "What is the total price of 4 tickets at $8 apiece together with 2 drinks at $3 apiece?",
    ),
)
_REPHRASE_MATH = (
    (
        "What is the sum of the roots of $x^2 - 7x + 10 = 0$?",
        "Add together all solutions of the equation $x^2 - 7x + 10 = 0$. What do you get?",
    ),
    (
        "How many positive divisors does $36$ have?",
        "Count the positive integers that divide $36$ evenly.",
    ),
)

_FOBAR_GSM = (
    (
        "Lena buys x notebooks at $2 each and a pen for $3. How much does she spend?\n"
        "If we know the answer to the above question is 13, what is the value of unknown "
        "variable x?",
        "The notebooks cost 2 * x = 2x dollars, and the pen costs 3 dollars.\n"
        "So she spends 2x + 3 dollars.\nWe are told she spends 13 dollars, so 2x + 3 = 13.\n"
        "Then 2x = 10, and x = 5.\nThe value of x is 5.",
    ),
    (
        "A farm has 20 cows and x% of them are brown. How many cows are not brown?\n"
        "If we know the answer to the above question is 15, what is the value of unknown "
        "variable x?",
        "The brown cows number 20 * x / 100 = x/5.\nThe cows that are not brown number 20 - x/5.\n"
        "We are told this is 15, so 20 - x/5 = 15.\nThen x/5 = 5, so x = 25.\n"
        "The value of x is 25.",
    ),
)
_FOBAR_MATH = (
    (
        "Compute $3 \\cdot X + 4$.\n"
        "If we know the answer to the above question is 19, what is the value of unknown "
        "variable X?",
        "The expression equals $3X + 4$, and we are told it is $19$.\n"
        "So $3X + 4 = 19$, which gives $3X = 15$ and $X = \\boxed{5}$.\nThe value of X is 5.",
    ),
    (
        "The perimeter of a square is X centimeters. What is its area, in square centimeters?\n"
        "If we know the answer to the above question is 49, what is the value of unknown "
        "variable X?",
        "A square with perimeter $X$ has side $X/4$ and area $(X/4)^2 = X^2/16$.\n"
        "We are told the area is $49$, so $X^2/16 = 49$, $X^2 = 784$, and since a perimeter is "
        "positive, $X = \\boxed{28}$.\nThe value of X is 28.",
    ),
)

_SV_REWRITE_GSM = (
    ("How many apples does Sam have left?", "7", "Sam has 7 apples left."),
    (
        "How much did she spend on groceries in total?",
        "45",
        "She spent 45 dollars on groceries in total.",
    ),
    ("What is the price of one shirt?", "12", "The price of one shirt is 12."),
)
_SV_REWRITE_MATH = (
    ("Find the value of $a+b$.", "5", "The value of $a+b$ is 5."),
    (
        "What is the smallest positive integer $n$ such that $3n \\equiv 2 \\pmod 5$?",
        "4",
        "The smallest positive integer $n$ such that $3n \\equiv 2 \\pmod 5$ is 4.",
    ),
)

_SV_GSM = (
    (
        "Lena buys x notebooks at $2 each and a pen for $3. She spends 13 dollars in total. "
        "What is the value of unknown variable x?",
        "Lay out what we know:\nNotebooks: x at $2 each, so 2x dollars.\nPen: 3 dollars.\n"
        "Total: 13 dollars.\nThe equation is 2x + 3 = 13.\nSubtract 3 from both sides: 2x = 10.\n"
        "Divide by 2: x = 5.\nThe value of x is 5.",
    ),
    (
        "A class has 30 students and x of them walk to school. 18 students do not walk to "
        "school. What is the value of unknown variable x?",
        "Students who walk: x. Students who do not walk: 18. Total: 30.\n"
        "The equation is x + 18 = 30.\nSubtract 18 from both sides: x = 12.\n"
        "The value of x is 12.",
    ),
)
_SV_MATH = (
    (
        "The perimeter of a square is X centimeters. Its area is 49 square centimeters. What is "
        "the value of unknown variable X?",
        "A square with perimeter $X$ has side $X/4$, so its area is $X^2/16$.\n"
        "The equation is $X^2/16 = 49$, so $X^2 = 784$ and, as a perimeter is positive, "
        "$X = \\boxed{28}$.\nThe value of X is 28.",
    ),
    (
        "The sum of the roots of $x^2 - Xx + 10 = 0$ is 7. What is the value of unknown "
        "variable X?",
        "For $x^2 - Xx + 10 = 0$ the sum of the roots is $X$ (Vieta's formulas).\n"
        "We are told it is $7$, so $X = \\boxed{7}$.\nThe value of X is 7.",
    ),
)

DEMOS = {
    "answer_aug": {"gsm8k": (), "math": ()},
    "rephrase": {"gsm8k": _REPHRASE_GSM, "math": _REPHRASE_MATH},
    "fobar": {"gsm8k": _FOBAR_GSM, "math": _FOBAR_MATH},
    "sv_rewrite": {"gsm8k": _SV_REWRITE_GSM, "math": _SV_REWRITE_MATH},
    "self_verification": {"gsm8k": _SV_GSM, "math": _SV_MATH},
}

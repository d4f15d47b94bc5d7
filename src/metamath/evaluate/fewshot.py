"""Few-shot exemplars for judging models that were not trained on MetaMathQA (issue #30).

Written for this project (own wording, not dataset rows, so no test item leaks into a prompt):
8 GSM8K-style word problems in the chain-of-thought format of Wei et al. (2022), and 4 MATH-style
problems in the Minerva layout (Lewkowycz et al. 2022: "Problem:" / "Solution:"). Every solution
ends with MetaMath's marker "The answer is: X", so the strict and the flexible grader both apply
to a model that imitates them. Each answer is checked in tests/test_eval_prompts.py.
"""

from __future__ import annotations

# (question, step-by-step solution, final answer)
GSM8K = (
    (
        "A baker made 48 muffins in the morning and 36 in the afternoon. She sold 59 of them. "
        "How many muffins does she have left?",
        "She made 48 + 36 = 84 muffins. After selling 59 she has 84 - 59 = 25 muffins left.",
        "25",
    ),
    (
        "Lena reads 15 pages on each weekday and 30 pages on each day of the weekend. How many "
        "pages does she read in one week?",
        "On the 5 weekdays she reads 5 * 15 = 75 pages. On the 2 weekend days she reads "
        "2 * 30 = 60 pages. In total she reads 75 + 60 = 135 pages.",
        "135",
    ),
    (
        "A bicycle costs $240. Omar has saved $90 and saves $25 more each week. How many more "
        "weeks must he save to afford the bicycle?",
        "He still needs 240 - 90 = 150 dollars. At 25 dollars a week that takes 150 / 25 = 6 "
        "weeks.",
        "6",
    ),
    (
        "A school bus holds 42 students. How many buses are needed to take 200 students on a trip?",
        "200 / 42 is about 4.76, so 4 buses carry only 4 * 42 = 168 students. The remaining "
        "students need one more bus, so 5 buses are needed.",
        "5",
    ),
    (
        "A garden has 6 rows of tomato plants with 8 plants in each row. Each plant gives 5 "
        "tomatoes. The gardener gives away a quarter of the tomatoes. How many tomatoes does she "
        "keep?",
        "There are 6 * 8 = 48 plants, giving 48 * 5 = 240 tomatoes. She gives away 240 / 4 = 60, "
        "so she keeps 240 - 60 = 180 tomatoes.",
        "180",
    ),
    (
        "Maya is 4 years older than her brother. In 3 years the sum of their ages will be 30. "
        "How old is Maya now?",
        "Let her brother be b years old, so Maya is b + 4. In 3 years their ages sum to "
        "(b + 3) + (b + 7) = 2b + 10 = 30, so b = 10. Maya is 10 + 4 = 14 years old.",
        "14",
    ),
    (
        "A shirt costs $40. In a sale its price is cut by 15%. How much does Jo pay for 3 shirts "
        "at the sale price?",
        "The discount is 40 * 15 / 100 = 6 dollars, so one shirt costs 40 - 6 = 34 dollars. "
        "Three shirts cost 3 * 34 = 102 dollars.",
        "102",
    ),
    (
        "A tank holds 120 liters of water. A pump removes 8 liters per minute while a hose adds "
        "3 liters per minute. How many minutes until the tank is empty?",
        "The tank loses 8 - 3 = 5 liters each minute, so it is empty after 120 / 5 = 24 minutes.",
        "24",
    ),
)

MATH = (
    (
        "Find the sum of all real numbers $x$ such that $x^2 - 5x + 6 = 0$.",
        "The quadratic factors as $(x-2)(x-3) = 0$, so the solutions are $x = 2$ and $x = 3$. "
        "Their sum is $2 + 3 = \\boxed{5}$.",
        "5",
    ),
    (
        "What is the remainder when $7^{100}$ is divided by $5$?",
        "Since $7 \\equiv 2 \\pmod 5$, we need $2^{100} \\bmod 5$. Now $2^4 = 16 \\equiv 1 "
        "\\pmod 5$ and $100 = 4 \\cdot 25$, so $2^{100} = (2^4)^{25} \\equiv 1 \\pmod 5$. The "
        "remainder is $\\boxed{1}$.",
        "1",
    ),
    (
        "A fair six-sided die is rolled twice. What is the probability that the two rolls add up "
        "to 9? Express your answer as a common fraction.",
        "There are $6 \\cdot 6 = 36$ equally likely outcomes. The pairs with sum 9 are $(3,6)$, "
        "$(4,5)$, $(5,4)$ and $(6,3)$, so the probability is $\\frac{4}{36} = "
        "\\boxed{\\frac{1}{9}}$.",
        "\\frac{1}{9}",
    ),
    (
        "Simplify $\\sqrt{72}$.",
        "Since $72 = 36 \\cdot 2$ and $36$ is a perfect square, $\\sqrt{72} = \\sqrt{36} "
        "\\cdot \\sqrt{2} = \\boxed{6\\sqrt{2}}$.",
        "6\\sqrt{2}",
    ),
)


def gsm8k_block(question: str, k: int = 8) -> str:
    """Wei et al. CoT layout: 'Question: ...' / 'Answer: ...', k exemplars then the question."""
    shots = "".join(f"Question: {q}\nAnswer: {s} The answer is: {a}\n\n" for q, s, a in GSM8K[:k])
    return f"{shots}Question: {question}\nAnswer:"


def math_block(question: str, k: int = 4) -> str:
    """Minerva layout: 'Problem:' / 'Solution:', k exemplars then the problem."""
    shots = "".join(
        f"Problem:\n{q}\n\nSolution:\n{s}\nThe answer is: {a}\n\n" for q, s, a in MATH[:k]
    )
    return f"{shots}Problem:\n{question}\n\nSolution:\n"

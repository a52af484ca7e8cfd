"""Sets (unordered), tuples (ordered), intervals (open/closed ends), inequalities both ways, partial answers."""

import pytest

from rewards.answers.engine import verify


@pytest.mark.parametrize("gold,pred,expected", [
    (r"\{1,2,3\}", r"\{3,1,2\}", True), (r"\{1,2,3\}", "1, 2, 3", True), (r"\{1,2,3\}", r"\{1,2\}", False),
    ("1, 2, 3", "3, 2, 1", True), ("1, 2, 3", "1, 2", False), ("2, 3", "2", False), ("2, 3", "3", False),
    (r"\pm 2021", "2021", False), (r"\pm 3", "3, -3", True), (r"\pm 3", r"-3 \text{ and } 3", True),
    (r"\frac{1}{2}, -3", r"-3, \frac12", True), ("19, 46, 82", "21, 36, 82", False),
    (r"19, 46, \text{ and } 82", "19, 46, 82", True),
    ("(3,4)", "(3,4)", True), ("(3,4)", "(4,3)", False), ("(1,2,3)", "(1,3,2)", False),
    (r"\left(\frac{1}{2}, 4\right)", "(0.5, 4)", True), ("(-2, 5)", "(2, -5)", False),
    (r"(2,\infty)", "x>2", True), ("x>2", r"(2,\infty)", True), (r"(2,\infty)", r"[2,\infty)", False),
    (r"[2,\infty)", r"x\geq 2", True), (r"[2,\infty)", r"x \ge 2", True), (r"[2,\infty)", "x>2", False),
    (r"x \ge 2", r"[2, \infty)", True), (r"(-\infty, 3]", r"x\le 3", True), (r"(-\infty, 3]", "x<3", False),
    ("[1,5]", "[1,5]", True), ("[1,5]", "(1,5)", False), ("[1,5]", "[1,5)", False), ("(1,5]", r"1<x\le 5", True),
    ("(1,5]", r"1\le x\le 5", False), (r"(-\infty,-1)\cup(2,\infty)", r"(2,\infty)\cup(-\infty,-1)", True),
    (r"(-\infty,-1)\cup(2,\infty)", r"(-\infty,-1]\cup[2,\infty)", False),
    (r"(-\infty,-1)\cup(2,\infty)", r"(2,\infty)", False), (r"[-2,2]", r"|x|\le 2", True),
    (r"(-\infty,-1)\cup(2,\infty)", r"x<-1 \text{ or } x>2", True),
    (r"\left[-\frac{1}{2}, \frac{1}{2}\right]", "[-0.5, 0.5]", True),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix}", True),
    (r"\begin{pmatrix}1&2\\3&4\end{pmatrix}", r"\begin{pmatrix}1&3\\2&4\end{pmatrix}", False),
    (r"\begin{pmatrix}1\\2\end{pmatrix}", r"\begin{bmatrix}1\\2\end{bmatrix}", True),
])
def test_sets_tuples_intervals(gold, pred, expected):
    assert verify(rf"So the answer is $\boxed{{{pred}}}$.", gold) is expected


@pytest.mark.parametrize("gold,pred,expected", [
    # a vector in any layout is the tuple of its entries
    ("(1, 2)", r"\begin{pmatrix} 1 \\ 2 \end{pmatrix}", True), (r"\begin{bmatrix}1\\2\end{bmatrix}", "(1, 2)", True),
    ("(1, 2)", r"\left[\begin{array}{c}1\\2\end{array}\right]", True), ("(1, 2)", r"\langle 1, 2 \rangle", True),
    ("(3,-1,2)", r"\left\langle 3, -1, 2 \right\rangle", True), ("(1,2)", "<1, 2>", True),
    ("(1, 2)", r"\langle 2, 1 \rangle", False), ("(1,2)", r"\begin{pmatrix}2\\1\end{pmatrix}", False),
    ("(1,2,3)", r"\begin{pmatrix}1\\2\end{pmatrix}", False),
    # entries that are expressions compare one by one (the order of a sum does not matter)
    ("(b+a, 2)", "(a+b, 2)", True), (r"(2x, x^2)", r"(x \cdot 2, x^2)", True), (r"\{x+1, 2\}", r"\{2, 1+x\}", True),
    (r"(\frac{\pi}{2}, 1)", "(pi/2, 1)", True), (r"(1,-\sqrt{2}),(-1,\sqrt{2})", r"(-1, \sqrt2), (1, -\sqrt2)", True),
    (r"(b+a, 2)", r"\begin{pmatrix} a + b \\ 2 \end{pmatrix}", True),
    ("(a+b, 2)", "(2, a+b)", False), ("(a+b,2)", "(a+b,3)", False), ("(a+b, 2)", "(a-b, 2)", False),
    (r"(\frac{\pi}{2}, 1)", "(pi/3, 1)", False), (r"[0, \pi]", r"[0, \pi)", False),
    # a set is never a tuple, whatever its entries; a bare list equals a set (same members) or a tuple (same order)
    ("(1, 2)", r"\{1, 2\}", False), (r"\{1,2\}", "(1,2)", False), ("(x, y)", r"\{x, y\}", False),
    (r"(\sqrt2, 3)", r"\{\sqrt2, 3\}", False), (r"\{a+b, 2\}", "(a+b, 2)", False), (r"\{(1,2)\}", "((1,2))", False),
    (r"\{x, y\}", "y, x", True), ("(x, y)", "x, y", True), (r"(\sqrt2, 3)", r"\sqrt2, 3", True),
    ("(x, y)", "y, x", False),
])
def test_vectors_expression_entries_sets_and_tuples(gold, pred, expected):
    assert verify(rf"So the answer is $\boxed{{{pred}}}$.", gold) is expected


@pytest.mark.parametrize("completion,gold,expected", [
    # several values given as one list or as several boxes: the same members, in any order
    ("<answer>(1, 2), (3, 4)</answer>", "(1,2),(3,4)", True),
    ("<answer>(1, 2), (3, 4)</answer>", r"\{(1,2),(3,4)\}", True),
    ("<answer>(1, 2), (3, 4)</answer>", "(3,4),(1,2)", True),
    (r"<answer>\{(3, 4), (1, 2)\}</answer>", "(1,2),(3,4)", True),
    (r"The solutions are $\boxed{(1, 2)}$ and $\boxed{(3, 4)}$.", "(3, 4), (1, 2)", True),
    ("<answer>(1, 2)</answer>", "(1,2),(3,4)", False),
    ("<answer>(1, 2), (3, 5)</answer>", "(1,2),(3,4)", False),
    ("<answer>(1, 2), (3, 4), (5, 6)</answer>", "(1,2),(3,4)", False),
    ("<answer>(2, 1), (4, 3)</answer>", "(1,2),(3,4)", False),
    (r"<answer>\{(1, 2)\}</answer>", r"\{(1,2),(3,4)\}", False),
])
def test_multi_valued_answers(completion, gold, expected):
    assert verify(completion, gold) is expected


@pytest.mark.parametrize("pred,gold,expected", [
    (r"\boxed{\{1,2\}\cup\{3\}}", r"\{1,2,3\}", True),  # a union of finite sets is the set of their members
    (r"\boxed{\{1,2\}\cup\{4\}}", r"\{1,2,3\}", False),
    (r"\boxed{[1,2]\cup[2,3]}", "[1,3]", True),  # overlapping intervals: SymPy compares the sets
    (r"\boxed{[1,2]\cup[3,4]}", "[1,4]", False),
    (r"\boxed{\{x \mid x > 2\}}", r"(2, \infty)", True),  # set-builder notation is its condition
    (r"\boxed{\{x \in \mathbb{R} : x \geq 2\}}", r"[2,\infty)", True),
    (r"\boxed{\{x \mid x > 3\}}", r"(2,\infty)", False),
])
def test_unions_and_set_builder_notation(pred, gold, expected):
    assert verify(pred, gold) is expected

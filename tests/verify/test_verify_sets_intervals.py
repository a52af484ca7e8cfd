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

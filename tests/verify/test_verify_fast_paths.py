"""The speed paths keep every verdict: the direct LaTeX reader and the two-stage ANTLR parse return the objects the
library's own call returns, the in-process rules answer what SymPy answers, and the pool takes a batch in one turn."""

from __future__ import annotations

import random

import pytest
import sympy
from latex2sympy2_extended.latex2sympy2 import latex2sympy
from latex2sympy2_extended.math_normalization import normalize_latex

from fixtures.verify_cases import cases
from rewards.answers import algebra, engine, latex_direct, latex_reader, numbers, sympy_compare
from rewards.answers.config import DEFAULT
from rewards.answers.normalize import normalize
from rewards.answers.pool import PoolConfig, WorkerPool
from rewards.answers.size_guard import too_big

_, OPTIONS = latex_reader.make_reader()


def _library(text: str):
    """What latex2sympy itself returns for ``text`` (or the exception type it raises)."""
    try:
        return latex_reader._nodes(latex2sympy(text, **OPTIONS))
    except Exception as error:  # the outcome compared is the exception's type
        return ("raises", type(error).__name__)


def _direct(text: str):
    try:
        value = latex_direct.read(normalize_latex(text, OPTIONS["normalization_config"]))
    except latex_direct.Unreadable:
        return ("raises", "Exception")
    return None if value is None else latex_reader._nodes(value)


def _plain(rng: random.Random, depth: int = 0) -> str:
    """A random plain expression or relation: numbers, letters, functions, fractions, roots, calls, bars."""
    def factor() -> str:
        pick = rng.random()
        if depth < 2 and pick < 0.12:
            return rf"\frac{{{_plain(rng, depth + 1)}}}{{{_plain(rng, depth + 1)}}}"
        if depth < 2 and pick < 0.18:
            return rf"\sqrt{{{_plain(rng, depth + 1)}}}"
        if depth < 2 and pick < 0.26:
            return rng.choice([r"\sin", r"\cos^2", r"\ln", r"\log_2", r"\tan^{-1}", r"\exp"]) + rng.choice(
                ["(" + _plain(rng, depth + 1) + ")", " " + rng.choice("xyn2"), "{" + _plain(rng, 2) + "}"])
        if depth < 2 and pick < 0.3:
            return rng.choice("fgh") + rng.choice(["", "_1", "^2"]) + rng.choice(["(x)", "(2)", "(x+1)", "[t]", "(2y)"])
        if depth < 2 and pick < 0.33:
            return "|" + _plain(rng, 2) + "|"
        if depth < 2 and pick < 0.4:
            return "(" + _plain(rng, depth + 1) + ")"
        atom = rng.choice(["2", "3", "10", "0", "x", "y", "n", "a_1", "x_{12}", r"\pi", "e", "I", r"\alpha", r"\infty",
                           "dx", "1010_2"])
        return atom + rng.choice(["", "", "", "^2", "^{n}", "!", "^x", "_k^2"])

    text = rng.choice(["", "", "-"]) + factor()
    while rng.random() < 0.45:
        text += rng.choice(["+", "-", "", " ", r"\cdot ", "/", r"\times "]) + factor()
    if depth == 0 and rng.random() < 0.3:
        text += rng.choice(["=", "<", r"\le ", r"\ne ", ">"]) + _plain(rng, 1)
    return text


def _table_texts() -> list[str]:
    texts = []
    for row in cases():
        read = engine._read((row["completion"], row["gold"]), DEFAULT)
        if isinstance(read, engine._Read):
            texts += [answer.text for answer in read.key]
    return [sympy_compare._exact_decimals(t, latex=True) for t in dict.fromkeys(texts) if t and not too_big(t)]


@pytest.mark.parametrize("text", [
    r"y=-\frac{1}{2}x+\frac{3}{4}", "2 3", r"2\frac{1}{2}", "a-2-x", "-x^2y", "2^x^2", "2^3^2", r"e^{i\pi}", "e x",
    r"2\sin x\cos x", r"\sin x \cdot y", r"\sin(x) y", r"\sin^{-1} x", r"\log_2 8", r"\ln x^2", "f(x)=2x+1",
    "x(x+1)", "x(2y)", "x^2(y)", "x[y+1]", "|x-1|+2", "(x<1)", "((x+1))", "{x+1}", "2I", r"1<x\le 3",
    r"\begin{pmatrix}1&x\\y&2\end{pmatrix}", r"\binom{n}{2}", r"\sqrt[3]{x}", "x_{n}^2", r"\frac{1}{0}",
    "2dx+1", "odd", r"\frac{dy}{2}", "1010_2", "x(dx)",
])
def test_the_direct_reader_builds_the_librarys_object_node_for_node(text):
    assert _direct(text) is not None
    assert _direct(text) == _library(text)


@pytest.mark.parametrize("text", [
    r"\{1, 2\}", r"\sin x(y)", "g(f(x))", "|x||y|", "x^2_n", "a_k^2", r"x \in (1,2)", "I^2", r"1 \pm \sqrt{2}",
    r"\int x dx", r"\lim_{x\to 0} x", r"x^\circ", "x|_{x=1}", r"\frac{d}{dx} x", r"\frac{1}{dx}",
])
def test_the_direct_reader_leaves_doubtful_readings_to_the_library(text):
    assert _direct(text) is None


def test_a_character_the_lexer_refuses_raises_as_the_library_does():
    assert _direct("x @ y") == _library("x @ y") == ("raises", "Exception")
    assert sympy_compare.parse("x @ y") is None


def test_the_direct_reader_agrees_with_the_library_on_the_table_and_generated_answers():
    rng = random.Random(8)
    texts = _table_texts() + [normalize(_plain(rng)).text for _ in range(200)]
    read = [text for text in texts if _direct(text) is not None]
    assert len(read) > 250  # it reads most of them
    assert [text for text in read if _direct(text) != _library(text)] == []


@pytest.fixture
def fresh_reader(monkeypatch):
    """This process's LaTeX reader as a new process has it (its gate not run yet), restored afterwards."""
    monkeypatch.setattr(latex_reader, "_STATE", latex_reader._State())


def test_the_two_stage_parse_returns_the_librarys_objects(fresh_reader, monkeypatch):
    read, options = latex_reader.make_reader()
    assert latex_reader.self_check() == [] and latex_reader.mode() == "direct, two-stage"
    monkeypatch.setattr(latex_direct, "read", lambda latex: None)  # every text goes to the two-stage parse
    texts = _table_texts()[::3] + [r"\{1, x\} \cup [2, 3)", r"(1, 2]", r"x \in \{1, 2\}", r"1 \pm \sqrt{2}",
                                   r"\{x | x > 0\}", "x=1; y=2", r"\int_0^1 x dx"]
    for text in texts:
        try:
            ours = latex_reader._nodes(read(text, **options))
        except Exception as error:  # the same exception type as the library's, below
            ours = ("raises", type(error).__name__)
        assert ours == _library(text), text


def test_an_unchecked_library_version_parses_with_the_librarys_own_call(fresh_reader, monkeypatch):
    monkeypatch.setitem(latex_reader.CHECKED_VERSIONS, "latex2sympy2_extended", ("0.0.",))
    monkeypatch.setattr(latex_reader, "_two_stage_converter", _never)  # the gate stops before the internals
    [note] = latex_reader.self_check()
    assert "two-stage and direct parsing are off" in note and "is not a checked version" in note
    assert latex_reader.mode() == "public call"
    monkeypatch.setattr(latex_direct, "read", _never)
    read, options = latex_reader.make_reader()
    assert latex_reader._nodes(read(r"\frac{x}{2}", **options)) == _library(r"\frac{x}{2}")


def _never(*args):
    raise AssertionError("the private internals were used")


def test_a_direct_reader_that_reads_unlike_the_library_switches_itself_off(fresh_reader, monkeypatch):
    monkeypatch.setattr(latex_direct, "read", lambda latex: sympy.Integer(7))
    notes = latex_reader.self_check()
    assert notes and "direct LaTeX reader is off" in notes[0] and latex_reader.mode() == "two-stage"


def test_a_bug_in_the_direct_reader_switches_it_off_and_says_so(fresh_reader, monkeypatch):
    read, options = latex_reader.make_reader()
    assert latex_reader.self_check() == []  # the gate passes

    def broken(latex):
        raise KeyError("broken on purpose")

    monkeypatch.setattr(latex_direct, "read", broken)
    assert latex_reader._nodes(read(r"\frac{x}{2}", **options)) == _library(r"\frac{x}{2}")  # the library's
    assert latex_reader.mode() == "two-stage"
    notes = latex_reader.take_notes()
    assert len(notes) == 1 and "direct LaTeX reader is off" in notes[0] and "broken on purpose" in notes[0]
    assert latex_reader.take_notes() == []


@pytest.mark.parametrize("error", [TypeError("mul_flat() takes 2 arguments"), AttributeError("no attribute 'build'"),
                                   ImportError("cannot import name 'PSLexer'")])
def test_a_moved_internal_at_use_switches_the_process_to_the_public_call(fresh_reader, monkeypatch, error):
    read, options = latex_reader.make_reader()
    assert latex_reader.self_check() == []  # the gate passes

    def moved(*args, **kwargs):
        raise error

    monkeypatch.setattr(latex_direct, "read", moved)
    monkeypatch.setattr(latex_reader._STATE.converter, "parse", moved)
    for text in (r"\frac{x}{2}", r"\{1, x\}", r"\sin^2 x"):
        assert latex_reader._nodes(read(text, **options)) == _library(text)
    assert latex_reader.mode() == "public call"
    [note] = latex_reader.take_notes()  # one note, however many readings followed
    assert "public call" in note and type(error).__name__ in note


def test_an_error_the_public_call_raises_too_switches_nothing(fresh_reader, monkeypatch):
    def library(text, **options):
        raise TypeError("the library cannot read this")

    _, options = latex_reader.make_reader()
    assert latex_reader.self_check() == []  # the gate passes
    monkeypatch.setattr(latex_reader, "_public", lambda: (library, options))
    monkeypatch.setattr(latex_direct, "read", library)
    read, _ = latex_reader.make_reader()
    with pytest.raises(TypeError, match="the library cannot read this"):
        read("x+1", **options)
    assert latex_reader.mode() == "direct, two-stage" and not latex_reader.take_notes()


@pytest.mark.parametrize("pred,gold", [
    # a product of unknowns against a plain number: not equal, as SymPy reads it
    ("ab", "5"), ("no solution", "0"), ("5 apples and pears", "5"), ("yes", "1"), ("x y", r"\frac{1}{2}"),
    ("dx", "0"), ("pie", "3"), ("x.5", "2"),
    # near-misses the rule leaves alone: constants, a zero factor, a function word, an expression
    ("ii", "-1"), ("2 pi", "6"), ("e", "2.718"), ("0 x", "0"), ("sqrt 4", "2"), ("x+1", "2"),
    # equations with proportional (or not) sides; assignments under two names; constants and calls
    ("2x-y+1=0", "y=2x+1"), ("2x-y-1=0", "y=2x+1"), ("x+2y=4", "2x+4y=8"), ("x+2y=8", "2x+4y=8"),
    ("y=-x", "x+y=0"), ("3x+4y=8", r"y=-\frac{3}{4}x+2"), ("3x+4y=6", r"y=-\frac{3}{4}x+2"), ("2x-3=0", "x=1.5"),
    ("x^2=4", "x=2"), ("y = 2x+1", r"x = \frac{y-1}{2}"), ("i x = 1", "x = -i"), ("x+e=1", "x=1-e"),
    ("y = t+1", "z = t+1"), (r"\pi x = 1", r"x = \frac{1}{\pi}"), ("ab=1", "a+b=1"), ("x=x", "0=0"),
    ("f(x)=2x", "f(x)=x+x"),
    # doubled parentheses are the tuple inside
    (r"((\frac{1}{3},\frac{1}{5}))", r"(\frac{1}{3},\frac{1}{5})"), ("((1,2))", "(2,1)"), ("((1,2))", r"\{1,2\}"),
    ("((x,2))", "(x,2)"), ("((1,2),(3,4))", "(1,2),(3,4)"),
])
def test_the_in_process_rules_answer_what_sympy_answers(pred, gold):
    p, g = normalize(pred), normalize(gold)
    decided = numbers.decide(p, g)
    assert decided is None or decided is bool(sympy_compare.compare(p, g))


@pytest.mark.parametrize("pred,gold,expected", [
    ("ab", "5", False), ("5 apples and pears", "5", False), ("2x-y+1=0", "y=2x+1", True),
    ("3x+4y=6", r"y=-\frac{3}{4}x+2", False), ("y = 2x+1", r"x = \frac{y-1}{2}", True),
    (r"((\frac{1}{3},\frac{1}{5}))", r"(\frac{1}{3},\frac{1}{5})", True),
    ("y = t+1", "z = t+1", None), (r"\pi x = 1", r"x = \frac{1}{\pi}", None), ("ii", "-1", True),
])
def test_the_in_process_rules_settle_these_without_sympy(pred, gold, expected):
    assert numbers.decide(normalize(pred), normalize(gold)) is expected


def test_proportional_sides_are_tested_exactly():
    assert algebra.proportional("(y)-(2x+1)", "(4x-2y+2)-(0)") is True
    assert algebra.proportional("(x^2+y^2)-(25)", "(x^2+y^2)-(5)") is False
    assert algebra.proportional(r"(\sqrt{2}x)-(1)", "(2x)-(\\sqrt{2})") is True
    assert algebra.proportional("(x)-(x)", "(y)-(1)") is None  # zero: SymPy decides
    assert algebra.proportional("(xy)-(1)", "(x+y)-(1)") is None  # a run of letters: never "not equal" here


@pytest.mark.parametrize("relation", [r"-x>-1", r"2x+1 \le 5", r"3-x \geq 0", r"\sqrt{2}x > 1", r"-\frac{x}{2} < 4",
                                      r"x \ne -\frac{1}{8}", r"\sqrt{2} \neq y", r"x\ne 0 \land x < 3"])
def test_linear_inequalities_are_the_intervals_the_solver_finds(relation):
    parsed = sympy_compare.parse(relation)
    assert sympy_compare._interval_of(parsed) == parsed.as_set()


def test_a_batch_is_one_turn_in_the_pool_however_it_grows():
    workers = WorkerPool(PoolConfig(workers=1))
    try:
        batch = workers.submit([(normalize("x+1"), normalize("1+x"))], timeout=30.0)
        workers.extend(batch, [(normalize(r"\sin^2 x+\cos^2 x"), normalize("1")), (normalize("x"), normalize("y"))])
        with workers._lock:
            assert list(workers._queue).count(batch) <= 1
        assert [status for status, _ in workers.collect(batch)] == ["equal", "equal", "not_equal"]
    finally:
        workers.close()
    closed = workers.submit([(normalize("x"), normalize("x"))], timeout=1.0)
    assert workers.collect(closed) == [("unavailable", "the worker pool is closed")]


class _RecordingPool:
    """Answers "equal"; records the calls the engine makes."""

    def __init__(self):
        self.calls = []

    def submit(self, tasks, timeout):
        self.calls.append(("submit", len(tasks)))
        return list(tasks)

    def extend(self, batch, tasks):
        self.calls.append(("extend", len(tasks)))
        batch.extend(tasks)

    def collect(self, batch):
        self.calls.append(("collect", len(batch)))
        return [("equal", "")] * len(batch)


def test_the_engine_queues_each_hard_check_as_it_finds_it_then_collects_once(monkeypatch):
    recorder = _RecordingPool()
    monkeypatch.setattr(engine, "pool", lambda: recorder)
    engine.clear_cache()  # the stub's verdicts are true ones, but they must not outlive the test
    pairs = [(r"\boxed{\tan x \cos x}", r"\sin x"), ("<answer>4</answer>", "4"), (r"\boxed{\sec^2 y}", r"1+\tan^2 y"),
             (r"\boxed{\tan x \cos x}", r"\sin x")]
    try:
        assert engine.verify_batch(pairs) == [True, True, True, True]
    finally:
        engine.clear_cache()
    assert recorder.calls == [("submit", 1), ("extend", 1), ("collect", 2)]


@pytest.mark.parametrize("pred,gold,expected", [
    (r"x \neq-\frac{1}{8}", r"-\frac{1}{8}", None),  # a relation is no number: no set comparison, no solving
    (r"x \ne 2", r"(-\infty,2)\cup(2,\infty)", True), (r"x \ne 2", r"(-\infty,2)\cup(3,\infty)", False),
    ("(0,1)", "0<f(x)<1", None),  # a condition on an unknown function's value is no set of x
    (r"x \ne 2", r"x<2 \lor x>2", True),
])
def test_relations_as_sets(pred, gold, expected):
    assert sympy_compare._as_sets_equal(sympy_compare.parse(pred), sympy_compare.parse(gold)) is expected


_SOUP = ["x", "y", "n", "a", "A", "B", "2", "3", "10", "0.5", "e", "I", r"\pi", r"\alpha", r"\infty", "+", "-", "*", "/",
         r"\cdot", r"\times", r"\div", "^", "_", "!", "(", ")", "[", "]", "{", "}", "|", "=", "<", ">", r"\le", r"\ge",
         r"\ne", r"\frac", r"\sqrt", r"\binom", r"\sin", r"\cos", r"\ln", r"\log", "f", "g", " ", "dx", ","]


def test_the_direct_reader_agrees_with_the_library_on_token_soup():
    """Random strings of the grammar's tokens, mostly malformed: wherever the direct reader gives an object it is
    the library's, and it never fails any other way than the library's own lexer refusal."""
    rng = random.Random(11)
    soups = ["".join(rng.choice(_SOUP) for _ in range(rng.randint(1, 9))) for _ in range(1000)]
    read = [text for text in soups if _direct(text) is not None]
    assert len(read) > 100
    assert [text for text in read if _direct(text) != _library(text)] == []


def test_the_workers_reader_returns_the_librarys_object_or_exception_on_token_soup():
    """The whole reading path of a worker (direct reader, then two-stage parse) against the library's own call,
    set and matrix tokens included: the same object, or an exception of the same type."""
    read, options = latex_reader.make_reader()
    assert latex_reader.self_check() == [] and latex_reader.mode() == "direct, two-stage"
    rng = random.Random(12)
    pieces = _SOUP + [r"\{", r"\}", r"\cup", r"\cap", r"\setminus", r"\in", r"\pm", r"\int", r"\sum", r"\to", "&",
                      r"\circ", r"\%", r"\angle", r"\overline", ";", r"\begin{pmatrix}", r"\end{pmatrix}", r"\\"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 9)))
        try:
            ours = latex_reader._nodes(read(text, **options))
        except Exception as error:  # compared by type with the library's
            ours = ("raises", type(error).__name__)
        assert ours == _library(text), text

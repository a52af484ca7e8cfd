r"""A reader that cannot fail because latex2sympy2_extended moved: with its private internals renamed, removed or of
another version, in real worker processes and in the thread fallback, every symbolic verdict stays what it is (the
library's public call reads instead, only slower), said once per process by a WARNING and counted as
``worker_notes``. The thread fallback runs the same gate as a worker before it uses the direct reader."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
import sympy

import rewards
from rewards.answers import latex_direct, latex_reader, sympy_compare, worker
from rewards.answers.normalize import normalize

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# (pred, gold, equal): pairs only SymPy settles (path "sympy"), every one with a ``w``, which no probe or warm-up
# text of the reader has, so a reader that fails on ``w`` passes the gate and fails at use.
SYMBOLIC = [
    (r"\sin^2 w+\cos^2 w", "1", True),
    (r"\sin 2w", r"2\sin w\cos w", True),
    (r"\sin w", r"\cos w", False),
    (r"\tan^2 w+1", r"\sec^2 w", True),
    (r"\sqrt{w^2}", "w", False),
    (r"\ln(2w)", r"\ln 2+\ln w", True),
    (r"\ln(w^2)", r"2\ln w", False),
    (r"\{w, \sin^2 w+\cos^2 w\}", r"\{1, w\}", True),
    (r"w^2 \ge 4", r"(-\infty,-2]\cup[2,\infty)", True),
    (r"|w| \le 2", "[-2, 2]", True),
    (r"\begin{pmatrix}1&w\\w&2\end{pmatrix}", r"\begin{pmatrix}1&w\\w&1+1\end{pmatrix}", True),
    (r"\begin{pmatrix}1&w\\w&2\end{pmatrix}", r"\begin{pmatrix}1&w\\2&w\end{pmatrix}", False),
    (r"e^{i\pi}+w", "w-1", True),
    (r"\frac{\sin w}{\cos w}", r"\tan w", True),
    (r"\arctan w + \arctan \frac{1}{w}", r"\frac{\pi}{2}", False),
    (r"2(3)\cos w", r"6\cos w", True),
]

# A sitecustomize that every process of the test (its parent and its workers) runs at start: it changes the
# installed library as a new release might, keeping its public call working.
_CHANGED_LIBRARY = '''
import os
change = os.environ.get("GRPOKIT_TEST_LIBRARY_CHANGE", "")
if change:
    import latex2sympy2_extended
    import latex2sympy2_extended.latex2sympy2 as converter  # binds the library's own helpers before any change
if change == "renamed":  # the private converter class renamed; the public call uses the new name
    import types
    moved = converter._Latex2Sympy
    del converter._Latex2Sympy
    converter.Latex2SympyConverter = moved
    public = types.FunctionType(converter.latex2sympy.__code__, {**vars(converter), "_Latex2Sympy": moved},
                                "latex2sympy", converter.latex2sympy.__defaults__)
    converter.latex2sympy = latex2sympy2_extended.latex2sympy = public
elif change == "lexer":  # the lexer no longer where the direct reader imports it from
    import latex2sympy2_extended.antlr_parser as antlr_parser
    del antlr_parser.PSLexer
elif change == "version":
    import importlib.metadata as metadata
    real = metadata.version
    metadata.version = lambda name: "2.0.0" if name == "latex2sympy2_extended" else real(name)
elif change == "at-use":  # a node helper whose signature changed: the probes pass, a reading with ``w`` fails
    import latex2sympy2_extended.symbols as symbols
    original = symbols.get_symbol
    def get_symbol(name, *args):
        if "w" in name:
            raise TypeError("get_symbol() missing 1 required positional argument: 'assumptions'")
        return original(name, *args)
    symbols.get_symbol = get_symbol
'''


def _run(tmp_path, change: str, thread: bool) -> None:
    """Grade ``SYMBOLIC`` in a fresh interpreter whose library was changed (``change``), in one worker process or,
    with ``thread``, in the thread fallback (no worker can start); it fails the test by raising."""
    (tmp_path / "sitecustomize.py").write_text(_CHANGED_LIBRARY)
    code = (
        "import logging, sys\n"
        + ("sys.executable = '/bin/false'\n" if thread else "")
        + "import rewards\n"
        "records = []\n"
        "handler = logging.Handler(); handler.emit = records.append\n"
        "logging.getLogger('rewards').addHandler(handler)\n"
        f"for pred, gold, equal in {SYMBOLIC!r}:\n"
        "    outcome = rewards.grade('\\\\boxed{' + pred + '}', gold)\n"
        f"    assert (outcome.equal, outcome.path) == (equal, {'thread' if thread else 'sympy'!r}), (pred, gold, outcome)\n"
        "notes = [r.getMessage() for r in records if 'public call' in r.getMessage()]\n"
        "assert len(notes) == 1 and notes[0].count('public call') == 1, notes  # one warning for the one process\n"
        "assert records[[r.getMessage() for r in records].index(notes[0])].levelno == logging.WARNING\n"
        "assert rewards.stats()['worker_notes'] == 1, rewards.stats()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=300, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), ROOT]),
                               "GRPOKIT_VERIFY_WORKERS": "1", "GRPOKIT_TEST_LIBRARY_CHANGE": change})
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_table_is_symbolic_and_labelled_right():
    outcomes = rewards.grade_batch([(rf"\boxed{{{pred}}}", gold) for pred, gold, _ in SYMBOLIC])
    assert [(o.equal, o.path) for o in outcomes] == [(equal, "sympy") for _, _, equal in SYMBOLIC]


@pytest.mark.parametrize("change", ["renamed", "lexer", "version", "at-use"])
def test_a_changed_library_leaves_every_verdict_in_a_worker(tmp_path, change):
    _run(tmp_path, change, thread=False)


def test_a_changed_library_leaves_every_verdict_in_the_thread_fallback(tmp_path):
    _run(tmp_path, "renamed", thread=True)


def _gate_done(timeout: float = 120.0) -> bool:
    """Wait until this process's reader gate, started in the background by a first reading, has run."""
    end = time.monotonic() + timeout
    while latex_reader._STATE.started and not latex_reader._STATE.checked and time.monotonic() < end:
        time.sleep(0.05)
    return latex_reader._STATE.checked


@pytest.fixture
def fresh_reader(monkeypatch):
    """This process's LaTeX reader as a new process has it (its gate not run yet), restored afterwards."""
    monkeypatch.setattr(latex_reader, "_STATE", latex_reader._State())
    sympy_compare.parse.cache_clear()
    yield
    _gate_done()  # a gate still running would write into the restored state
    sympy_compare.parse.cache_clear()


def test_the_thread_fallback_runs_the_gate_before_the_direct_reader(fresh_reader, monkeypatch, caplog):
    """``judge`` is what the thread fallback runs: its first reading starts the gate (the public call reads
    meanwhile), and the direct reader, which misreads a probe, never reads an answer."""
    original = latex_direct.read

    def misread(latex):
        if latex == "2 3":  # a probe
            return sympy.Integer(6)
        if "w" in latex:
            raise AssertionError("the direct reader read an answer")
        return original(latex)

    monkeypatch.setattr(latex_direct, "read", misread)
    before = rewards.stats()["worker_notes"]
    expected = [("equal" if equal else "not_equal") for _, _, equal in SYMBOLIC]
    with caplog.at_level(logging.WARNING, logger="rewards"):
        assert [worker.judge(normalize(pred), normalize(gold))[0] for pred, gold, _ in SYMBOLIC] == expected
        assert _gate_done() and latex_reader.mode() == "two-stage"
        sympy_compare.parse.cache_clear()  # read again, now past the gate
        assert [worker.judge(normalize(pred), normalize(gold))[0] for pred, gold, _ in SYMBOLIC] == expected
    assert rewards.stats()["worker_notes"] == before + 1
    [record] = [r for r in caplog.records if "direct LaTeX reader is off" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.name.startswith("rewards.")

"""Reads normalized LaTeX into SymPy with latex2sympy2_extended: its public call, or two faster readings of the very
same objects (the direct reader, the two-stage SLL/LL parse) that rely on the library's private internals.
Runs only where SymPy runs (worker processes, the thread fallback). It must never return another object than the
public call would: the private internals are imported only behind a gate (checked versions, then the import, then
probes read as the library reads them), and any failure of theirs switches this process to the public call, saying why."""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, field
from importlib import metadata

from sympy import Basic

# Texts the direct reader must read node for node as the library does (one per rule it follows).
PROBES = (r"y=-\frac{1}{2}x+\frac{3}{4}", "x^2+y^2-25=0", r"2\frac{1}{2}", "2 3", "a-2-x", "-x^2y", r"x\cdot y z/2",
          r"\frac{x}{2}\div 3", r"\sqrt[3]{x}+\sqrt{2}", "2^x^2", "2^3^2", "x_{12}^2", "x_{n}^2", r"e^{i\pi}", "e x",
          r"\pi r^2", "(n+1)n!", r"\binom{n}{2}", r"1<x\le 3", r"x\ne 5", r"-\infty", "x(x+1)", r"\alpha^2", "2I",
          r"2\sin x\cos x", r"\sin^2(x)+\cos 2x", r"\log_2 8+\ln(x)", r"\arctan 1", "f(x)=2x+1", "g_1(2)^2", "x^2(y)",
          "|x-1|+2", "(x<1)", "((x+1))", "{x+1}", r"\begin{pmatrix}1&x\\y&2\end{pmatrix}")

# Versions the faster readings were checked against (identical objects on the development table and thousands of
# generated answers, tests/verify/test_verify_fast_paths.py); any other is read with the public call only.
CHECKED_VERSIONS = {"latex2sympy2_extended": ("1.11.",), "antlr4-python3-runtime": ("4.13.",)}
# What a library whose internals moved raises (a renamed class, a removed attribute, a changed signature).
MOVED = (ImportError, AttributeError, TypeError)


@dataclass
class _State:
    """This process's readings: ``checked`` once the gate has run (the faster readings are used only then),
    ``started`` once it was started; ``private`` while the private internals may be used (the two-stage parse, and
    the direct reader while ``direct``); ``notes`` say why a reading was switched off, until they are taken."""

    checked: bool = False
    started: bool = False
    private: bool = True
    direct: bool = True
    converter: type | None = None  # the two-stage converter class, once imported
    notes: list[str] = field(default_factory=list)


_STATE = _State()
_LOCK = threading.Lock()  # held only to change the state, never while the gate runs


def _public():
    """The library's public call and our options (``M`` and ``m`` two unknowns, no unit or equation rewriting),
    checked against its signature: a missing or changed public API raises here, and every reading fails loudly."""
    from latex2sympy2_extended import NormalizationConfig, latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig  # the public call's parameter type

    options = {"normalization_config": NormalizationConfig(basic_latex=True, units=False, malformed_operators=False,
                                                           nits=False, boxed="none", equations=False),
               "conversion_config": ConversionConfig(lowercase_symbols=False)}
    inspect.signature(latex2sympy).bind("x", **options)
    return latex2sympy, options


def make_reader():
    r"""``(read, options)``: ``read(text, **options)`` returns what ``latex2sympy(text, **options)`` (the library's
    public call) returns, or raises what it raises.

    A worker runs the gate (``self_check``) as it starts; elsewhere (the thread fallback) the first reading starts
    it in a background thread, and the public call reads until it has passed, so no check waits for it. Then, while
    the private internals are on, the direct reader reads what it can, and the rest is parsed in ANTLR's two
    stages: SLL prediction (context-free and cached: ~5x cheaper than full LL once its decision tables are built),
    which yields exactly the tree LL would or fails with a syntax error, then the default LL prediction, which
    decides. An ImportError, AttributeError or TypeError from them that the public call does not raise on the
    same text switches this process to the public call (one note, for the worker or the thread fallback to log).

    >>> read, options = make_reader()
    >>> read(r"\frac{x}{2}", **options)
    x/2
    """
    public, options = _public()

    def read(text: str, normalization_config, conversion_config):
        if not _STATE.checked:
            try:
                return public(text, normalization_config=normalization_config, conversion_config=conversion_config)
            finally:  # after this reading, not beside it
                _start_gate()
        if _STATE.private:
            try:
                return _read_fast(text, normalization_config, conversion_config)
            except MOVED as error:
                return _public_instead(public, text, normalization_config, conversion_config, error)
        return public(text, normalization_config=normalization_config, conversion_config=conversion_config)

    return read, options


def _read_fast(text: str, normalization_config, conversion_config):
    from latex2sympy2_extended import normalize_latex

    latex = normalize_latex(text, normalization_config)
    if _STATE.direct:
        direct = _read_direct(latex)
        if direct is not None:
            return direct
    converter = _STATE.converter
    try:
        return converter(conversion_config, sll=True).parse(latex)
    except Exception:  # whatever the first stage met, the second stage decides (and raises)
        pass
    return converter(conversion_config, sll=False).parse(latex)


def _read_direct(latex: str):
    """The direct reader's object, or ``None`` (the library decides); a bug in it switches it off in this process."""
    from rewards.answers import latex_direct

    try:
        return latex_direct.read(latex)
    except latex_direct.Unreadable as error:  # the library's lexer raises on this text: so do we
        raise Exception(f"latex2sympy2_extended cannot lex {latex!r}: {error}") from None
    except MOVED:  # perhaps the library's internals moved: the caller asks the public call
        raise
    except Exception as error:  # a bug in the direct reader: off in this process, said; the two-stage parse decides
        with _LOCK:
            if _STATE.direct:
                _STATE.direct = False
                _STATE.notes.append(f"the direct LaTeX reader is off: it failed on {latex[:80]!r} "
                                    f"({type(error).__name__}: {error})"[:300])
        return None


def _public_instead(public, text: str, normalization_config, conversion_config, error: Exception):
    """The public call's reading of ``text``, after a faster reading raised ``error`` (one of ``MOVED``): if the
    public call raises the same on this text, nothing moved (its exception is raised); otherwise the internals did,
    and this process switches to the public call."""
    try:
        value = public(text, normalization_config=normalization_config, conversion_config=conversion_config)
    except Exception as public_error:
        if type(public_error) is type(error):
            raise
        _switch_to_public(text, error)
        raise
    _switch_to_public(text, error)
    return value


def _switch_to_public(text: str, error: Exception) -> None:
    with _LOCK:
        if _STATE.private:
            _STATE.private = _STATE.direct = False
            _STATE.notes.append(_off(f"reading {text[:60]!r} raised {type(error).__name__}: {error}"))


def _off(why: str) -> str:
    """The one note of a process whose faster readings are off."""
    return (f"the direct LaTeX reader is off, and so is the two-stage parse ({why}); this process reads LaTeX with "
            f"latex2sympy2_extended's public call only: verdicts unchanged, checks slower")[:400]


def take_notes() -> list[str]:
    """Why a faster reading was switched off since the last call (a worker sends them with its reply, the thread
    fallback logs them; either way they are counted as ``worker_notes``)."""
    with _LOCK:
        notes = _STATE.notes[:]
        del _STATE.notes[:len(notes)]
    return notes


def mode() -> str:
    """How this process reads LaTeX now: ``"direct, two-stage"``, ``"two-stage"`` or ``"public call"`` (also until
    the gate has run)."""
    if not (_STATE.checked and _STATE.private):
        return "public call"
    return "direct, two-stage" if _STATE.direct else "two-stage"


def self_check() -> list[str]:
    r"""The gate, run afresh: checked versions, then the private internals imported (``_Latex2Sympy`` and the
    two-stage parser; the direct reader's lexer and node helpers), then the direct reader against the public call
    on ``PROBES`` (node for node). Returns why a reading is off (nothing when all are on). A worker runs it as it
    starts and reports what it returns; elsewhere the first reading starts it (``make_reader``).

    >>> self_check()
    []
    """
    converter, direct, notes = _check()
    with _LOCK:
        _STATE.converter, _STATE.private, _STATE.direct = converter, converter is not None, direct
        _STATE.checked = _STATE.started = True
    return notes


def _start_gate() -> None:
    """Run ``self_check`` once in a background thread; its notes wait for ``take_notes``."""
    with _LOCK:
        if _STATE.started:
            return
        _STATE.started = True
    try:
        threading.Thread(target=_gate, name="rewards-latex-gate", daemon=True).start()
    except RuntimeError:  # no thread can start now (the interpreter is ending): the public call keeps reading
        pass


def _gate() -> None:
    try:
        notes = self_check()
    except Exception as error:  # the public call is broken: it alone reads, and fails loudly where it is used
        with _LOCK:
            _STATE.private = _STATE.direct = False
            _STATE.checked = True
        notes = [f"the LaTeX reader cannot be checked: {type(error).__name__}: {error}"[:300]]
    with _LOCK:
        _STATE.notes.extend(notes)


def _check() -> tuple[type | None, bool, list[str]]:
    """``(converter, direct, notes)``: the two-stage converter (None: the private internals are off), whether the
    direct reader is on, and why a reading is off. Changes no state (``self_check`` sets it)."""
    why = _unchecked_version()
    if why:
        return None, False, [f"two-stage and direct parsing are off: {why}; this process reads LaTeX with the "
                             f"library's public call"]
    try:
        converter = _two_stage_converter()
        from rewards.answers import latex_direct  # the lexer and node helpers, imported here, behind the gate
    except MOVED as error:
        return None, False, [_off(f"latex2sympy2_extended's internals do not import as expected: "
                                  f"{type(error).__name__}: {error}")]
    public, options = _public()
    from latex2sympy2_extended import normalize_latex

    for text in PROBES:
        try:
            expected = _nodes(public(text, **options))
        except Exception as error:  # the public call itself fails: it is used alone, and fails loudly where used
            return None, False, [_off(f"the public call raised {type(error).__name__} on the probe {text!r}: {error}")]
        try:
            direct = latex_direct.read(normalize_latex(text, options["normalization_config"]))
        except (*MOVED, latex_direct.Unreadable) as error:
            return None, False, [_off(f"the direct reader raised {type(error).__name__} on the probe {text!r}: "
                                      f"{error}")]
        if direct is None or _nodes(direct) != expected:
            return converter, False, [f"the direct LaTeX reader is off: it reads {text!r} unlike "
                                      f"latex2sympy2_extended ({metadata.version('latex2sympy2_extended')}); the "
                                      f"two-stage parse stays on"]
    return converter, True, []


def _unchecked_version() -> str:
    """Why the installed library or ANTLR runtime is not a checked version ("" when both are)."""
    for package, prefixes in CHECKED_VERSIONS.items():
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            return f"{package} has no version metadata"
        if not version.startswith(prefixes):
            return f"{package} {version} is not a checked version ({', '.join(prefixes)}x)"
    return ""


def _nodes(obj):
    """The whole expression tree: node types and argument order (``==`` alone ignores unevaluated order)."""
    if not isinstance(obj, Basic):  # a Matrix: its shape and entries
        return type(obj).__name__, getattr(obj, "shape", ()), tuple(_nodes(entry) for entry in obj)
    if obj.args:
        return type(obj).__name__, tuple(_nodes(arg) for arg in obj.args)
    return type(obj).__name__, obj.assumptions0 if obj.is_Symbol else (), str(obj)


def _two_stage_converter() -> type:
    """The library's converter, built as ``latex2sympy`` builds it, whose parser predicts with SLL or LL (imports
    the private ``_Latex2Sympy``; raises one of ``MOVED`` where it or the parser it makes is not as checked)."""
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy

    if not all(callable(getattr(_Latex2Sympy, name, None)) for name in ("create_parser", "parse")):
        raise AttributeError("latex2sympy2_extended._Latex2Sympy has no create_parser/parse")
    if not hasattr(getattr(_Latex2Sympy(None, None, False).create_parser("1"), "_interp", None), "predictionMode"):
        raise AttributeError("the ANTLR parser has no _interp.predictionMode")

    class TwoStage(_Latex2Sympy):
        """``latex2sympy``'s converter (no variable values, ``is_real=None``, no degree conversion) whose ANTLR
        parser predicts with SLL (first stage) or with the default LL (second stage)."""

        def __init__(self, conversion_config, sll: bool):
            super().__init__(None, None, False, config=conversion_config)
            self.sll = sll

        def create_parser(self, latex_str):
            parser = super().create_parser(latex_str)
            if self.sll:
                parser._interp.predictionMode = PredictionMode.SLL
            return parser

    return TwoStage

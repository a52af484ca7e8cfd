"""Reads normalized LaTeX into SymPy with latex2sympy2_extended, parsing in two stages (ANTLR's SLL, then full LL).
Runs only in worker processes; it must never return another object than the library's own call would, and falls
back to that call (saying why) when the library or the ANTLR runtime is not a version it was checked against."""

from __future__ import annotations

import inspect
import logging
from importlib import metadata

from sympy import Basic

log = logging.getLogger(__name__)
_DIRECT = [True]  # the direct reader is on until ``self_check`` finds it differs from the library, or it fails
_NOTES: list[str] = []  # why it was switched off, until the worker passes them to the parent (``take_notes``)
# Texts the direct reader must read node for node as the library does (one per rule it follows).
PROBES = (r"y=-\frac{1}{2}x+\frac{3}{4}", "x^2+y^2-25=0", r"2\frac{1}{2}", "2 3", "a-2-x", "-x^2y", r"x\cdot y z/2",
          r"\frac{x}{2}\div 3", r"\sqrt[3]{x}+\sqrt{2}", "2^x^2", "2^3^2", "x_{12}^2", "x_{n}^2", r"e^{i\pi}", "e x",
          r"\pi r^2", "(n+1)n!", r"\binom{n}{2}", r"1<x\le 3", r"x\ne 5", r"-\infty", "x(x+1)", r"\alpha^2", "2I",
          r"2\sin x\cos x", r"\sin^2(x)+\cos 2x", r"\log_2 8+\ln(x)", r"\arctan 1", "f(x)=2x+1", "g_1(2)^2", "x^2(y)",
          "|x-1|+2", "(x<1)", "((x+1))", "{x+1}", r"\begin{pmatrix}1&x\\y&2\end{pmatrix}")

# Versions the two-stage parse was checked against (identical objects on the development table and thousands
# of generated answers, tests/verify/test_verify_fast_paths.py); any other runs the library's call unchanged.
CHECKED_VERSIONS = {"latex2sympy2_extended": ("1.11.",), "antlr4-python3-runtime": ("4.13.",)}


def make_reader():
    r"""``(read, options)``: ``read(text, **options)`` returns what ``latex2sympy(text, **options)`` returns (or
    raises what it raises), with our options (``M`` and ``m`` two unknowns, no unit or equation rewriting).
    Checked against the library's API (a changed signature raises; a missing library raises ImportError).

    ANTLR's two-stage strategy: the text is parsed with SLL prediction (context-free and cached: ~5x cheaper than
    full LL once its decision tables are built); SLL either yields exactly the tree LL would, or fails with a
    syntax error, and then the text is parsed again with the default LL prediction, which decides.

    >>> read, options = make_reader()
    >>> read(r"\frac{x}{2}", **options)
    x/2
    """
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig, latex2sympy
    from latex2sympy2_extended.math_normalization import NormalizationConfig, normalize_latex

    options = {"normalization_config": NormalizationConfig(basic_latex=True, units=False, malformed_operators=False,
                                                           nits=False, boxed="none", equations=False),
               "conversion_config": ConversionConfig(lowercase_symbols=False)}  # ``M`` and ``m`` are two unknowns
    inspect.signature(latex2sympy).bind("x", **options)
    from rewards.answers import latex_direct

    converter, why = _two_stage_converter()
    if converter is None:
        log.warning("latex2sympy2_extended: two-stage parsing is off (%s); answers are parsed with full LL only", why)
        return latex2sympy, options

    def read(text: str, normalization_config, conversion_config):
        latex = normalize_latex(text, normalization_config)
        if _DIRECT[0]:
            try:
                direct = latex_direct.read(latex)
            except latex_direct.Unreadable as error:  # the library's lexer raises on this text: so do we
                raise Exception(f"latex2sympy2_extended cannot lex {latex!r}: {error}") from None
            except Exception as error:  # a bug in the direct reader: off in this process, said; the library decides
                _DIRECT[0] = False
                _NOTES.append(f"the direct LaTeX reader is off: it failed on {latex[:80]!r} "
                              f"({type(error).__name__}: {error})"[:300])
                direct = None
            if direct is not None:
                return direct
        try:
            return converter(conversion_config, sll=True).parse(latex)
        except Exception as error:  # whatever the first stage met, the second stage decides (and raises)
            log.debug("SLL could not read %r (%s); parsing again with LL", text, type(error).__name__)
        return converter(conversion_config, sll=False).parse(latex)

    read.two_stage = True
    return read, options


def take_notes() -> list[str]:
    """The reasons the direct reader was switched off since the last call (the worker sends them with its reply,
    and the parent logs and counts them as ``worker_notes``)."""
    notes = _NOTES[:]
    del _NOTES[:len(notes)]
    return notes


def two_stage_status() -> str:
    """``"two-stage"``, or why answers are parsed with the library's own call only (the worker reports it)."""
    return _two_stage_converter()[1]


def self_check() -> list[str]:
    r"""Compare the direct reader with the library on ``PROBES`` (node for node); on any difference switch the
    direct reader off for this process and say so. The worker runs it as it starts and reports what it returns.

    >>> self_check()
    []
    """
    if _two_stage_converter()[0] is None:
        _DIRECT[0] = False
        return [f"two-stage and direct parsing are off: {two_stage_status()}"]
    from latex2sympy2_extended.latex2sympy2 import latex2sympy
    from latex2sympy2_extended.math_normalization import normalize_latex

    from rewards.answers import latex_direct

    _, options = make_reader()
    for text in PROBES:
        direct = latex_direct.read(normalize_latex(text, options["normalization_config"]))
        if direct is None or _nodes(direct) != _nodes(latex2sympy(text, **options)):
            _DIRECT[0] = False
            return [f"the direct LaTeX reader is off: it reads {text!r} unlike latex2sympy2_extended "
                    f"({metadata.version('latex2sympy2_extended')})"]
    return []


def _nodes(obj):
    """The whole expression tree: node types and argument order (``==`` alone ignores unevaluated order)."""
    if not isinstance(obj, Basic):  # a Matrix: its shape and entries
        return type(obj).__name__, getattr(obj, "shape", ()), tuple(_nodes(entry) for entry in obj)
    if obj.args:
        return type(obj).__name__, tuple(_nodes(arg) for arg in obj.args)
    return type(obj).__name__, obj.assumptions0 if obj.is_Symbol else (), str(obj)


def _two_stage_converter():
    """``(class, "two-stage")``: the library's converter, built as ``latex2sympy`` builds it, whose parser predicts
    with SLL or LL; ``(None, reason)`` when a version or an internal it relies on is not the checked one."""
    for package, prefixes in CHECKED_VERSIONS.items():
        try:
            version = metadata.version(package)
        except metadata.PackageNotFoundError:
            return None, f"{package} has no version metadata"
        if not version.startswith(prefixes):
            return None, f"{package} {version} is not a checked version ({', '.join(prefixes)}x)"
    from antlr4.atn.PredictionMode import PredictionMode
    from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy

    if not all(callable(getattr(_Latex2Sympy, name, None)) for name in ("create_parser", "parse")):
        return None, "latex2sympy2_extended._Latex2Sympy has no create_parser/parse"
    if not hasattr(getattr(_Latex2Sympy(None, None, False).create_parser("1"), "_interp", None), "predictionMode"):
        return None, "the ANTLR parser has no _interp.predictionMode"

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

    return TwoStage, "two-stage"

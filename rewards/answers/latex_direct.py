"""Builds the SymPy object of a plain LaTeX expression without ANTLR's parser, exactly as latex2sympy2_extended builds it.
It must never return an object the library would not (anything outside its small grammar, or any doubt about how the
library's grammar reads it, is ``None``: the library then parses the text). It stands on the library's private
internals (its lexer, converter and node helpers), so only ``latex_reader``'s gate imports it: after the version
check, where an ImportError, AttributeError or TypeError switches the process to the library's public call."""

from __future__ import annotations

import sympy
from antlr4 import InputStream
from antlr4.error.ErrorListener import ErrorListener
from latex2sympy2_extended.antlr_parser import PSLexer
from latex2sympy2_extended.latex2sympy2 import _Latex2Sympy
from latex2sympy2_extended.logic import And
from latex2sympy2_extended.sets import FiniteSet
from latex2sympy2_extended.symbols import get_symbol
from sympy.core.relational import Relational

# The token kinds of the grammar below (PSLexer's own names); a text with any other token is not read here.
_T = PSLexer
_RELATIONS = {_T.ASSIGNMENT: sympy.Eq, _T.LT: sympy.StrictLessThan, _T.LTE: sympy.LessThan,
              _T.GT: sympy.StrictGreaterThan, _T.GTE: sympy.GreaterThan, _T.UNEQUAL: sympy.Ne}
_PRODUCTS = {_T.MUL, _T.CMD_TIMES, _T.CMD_CDOT}
_QUOTIENTS = {_T.DIV, _T.CMD_DIV}
_OPENING = {_T.L_PAREN: _T.R_PAREN, _T.L_BRACKET: _T.R_BRACKET, _T.L_BRACE: _T.R_BRACE}
_NAMES = {_T.LETTER_NO_E, _T.GREEK_CMD}
# ``func_normal_functions_single_arg`` of PS.g4 that ``convert_func`` turns into a SymPy function of one argument.
_FUNCTIONS = {_T.FUNC_SIN, _T.FUNC_COS, _T.FUNC_TAN, _T.FUNC_CSC, _T.FUNC_SEC, _T.FUNC_COT, _T.FUNC_ARCSIN,
              _T.FUNC_ARCCOS, _T.FUNC_ARCTAN, _T.FUNC_ARCCSC, _T.FUNC_ARCSEC, _T.FUNC_ARCCOT, _T.FUNC_SINH,
              _T.FUNC_COSH, _T.FUNC_TANH, _T.FUNC_LOG, _T.FUNC_LN, _T.FUNC_EXP}
_STARTS_NOFUNC = {_T.NUMBER, _T.SYMBOL, _T.DIFFERENTIAL, _T.CMD_FRAC, _T.CMD_BINOM, _T.BAR, *_NAMES,
                  *_OPENING}  # ``comp_nofunc``
_STARTS_POSTFIX = {*_STARTS_NOFUNC, _T.EXP_E, _T.FUNC_SQRT, *_FUNCTIONS}  # ``comp``: also the ``func`` rule
_MATRIX = {_T.CMD_MATRIX_START, _T.CMD_MATRIX_END, _T.MATRIX_DEL_COL, _T.MATRIX_DEL_ROW}
_KINDS = {_T.ADD, _T.SUB, _T.CARET, _T.UNDERSCORE, _T.BANG, *_RELATIONS, *_PRODUCTS, *_QUOTIENTS, *_STARTS_POSTFIX,
          *_OPENING.values(), *_MATRIX}
MAX_TOKENS = 200


class _Outside(Exception):
    """The text leaves this grammar (or the library might read it another way): the library decides."""


def read(latex: str):
    r"""The object ``latex2sympy`` returns for ``latex`` (already through the library's ``normalize_latex``), or
    ``None`` when the text is outside this grammar: numbers, letters (with plain subscripts), ``\pi`` and Greek
    letters, ``e``, ``\infty``, ``+ - * / \cdot \times \div``, implicit products, ``^``, ``!``, ``\frac``, ``\sqrt``,
    ``\binom``, brackets, and one chain of ``= < > \le \ge \ne``. The library's own helpers build every node
    (unevaluated, in its argument order); the grammar follows its ANTLR grammar (PS.g4) rule for rule.

    >>> read(r"x^2+\frac{y}{2}=1")
    Eq(x**2 + y/2, 1)
    >>> read(r"\{1, 2\}") is None  # a set: outside this grammar, the library reads it
    True
    >>> read("f(x)"), read("x(x+1)")  # a call, and a product (as the library reads them)
    (f(x), x*(x + 1))

    Raises ``Unreadable`` when the library's lexer refuses a character (the library raises then, whatever the
    parser meets first: its grammar ends in EOF, so every character is lexed).
    """
    try:
        tokens = _tokens(latex)
        if tokens is None:
            return None
        return _Parser(tokens).whole()
    except _Outside:
        return None


class Unreadable(Exception):
    """The library's lexer refuses a character of the text, so the library cannot read it either."""


class _Refuse(ErrorListener):
    def syntaxError(self, recognizer, offendingSymbol, line, column, msg, e):  # noqa: N802 (ANTLR's name)
        raise Unreadable(f"{msg} at {column}")  # the library's own listener raises here too


def _tokens(latex: str) -> list[tuple[int, str]] | None:
    lexer = PSLexer(InputStream(latex))
    lexer.removeErrorListeners()
    lexer.addErrorListener(_Refuse())
    tokens = [(token.type, token.text) for token in lexer.getAllTokens()]  # every character: Unreadable first
    if not tokens or len(tokens) > MAX_TOKENS or any(kind not in _KINDS for kind, _ in tokens):
        return None
    return tokens


class _Parser:
    """Recursive descent over PS.g4's rules ``relation``, ``additive``, ``mp``, ``unary``, ``postfix``, ``exp``,
    ``comp`` and ``atom`` (left-recursive rules read left-associative, as ANTLR reads them)."""

    def __init__(self, tokens: list[tuple[int, str]]):
        self.tokens, self.pos, self.in_bars = tokens, 0, False
        self.build = _Latex2Sympy(None, None, False)  # the library's node helpers (no state is used)
        bars = [i for i, (kind, _) in enumerate(tokens) if kind == _T.BAR]
        # ``|x|`` only: with more bars (``|x||y|``) or one before a script (``x|_{x=1}``) the reading is not plain
        self.abs_ok = len(bars) == 2 and all(self.peek_at(i + 1) not in (_T.CARET, _T.UNDERSCORE) for i in bars)

    def peek_at(self, index: int) -> int | None:
        return self.tokens[index][0] if index < len(self.tokens) else None

    def peek(self, ahead: int = 0) -> int | None:
        index = self.pos + ahead
        return self.tokens[index][0] if index < len(self.tokens) else None

    def take(self, kind: int | None = None) -> str:
        if self.pos >= len(self.tokens) or (kind is not None and self.tokens[self.pos][0] != kind):
            raise _Outside
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def whole(self):
        """The ``math`` rule for one element: ``(x+1)`` and ``[x<1]`` are a one-element tuple there, which the
        library reads as its element, ``{x}`` a one-element set; a matrix is read only as the whole text."""
        if self.peek() in _OPENING and self._closing(0) == len(self.tokens) - 1:
            inner = _Parser(self.tokens[1:-1]).whole()
            return FiniteSet(inner) if self.peek() == _T.L_BRACE else inner  # ``convert_finite_set``
        if self.peek() == _T.CMD_MATRIX_START:
            value = self.matrix()
        else:
            value = self.relation()
        if self.pos != len(self.tokens):
            raise _Outside
        return value

    def matrix(self):
        """``\\begin{pmatrix} a & b \\\\ c & d \\end{pmatrix}``: ``convert_matrix``, rows of ``expr``."""
        self.take(_T.CMD_MATRIX_START)
        rows = [[self.additive()]]
        while self.peek() != _T.CMD_MATRIX_END:
            if self.peek() == _T.MATRIX_DEL_COL:
                self.take()
                rows[-1].append(self.additive())
            else:
                self.take(_T.MATRIX_DEL_ROW)
                if self.peek() != _T.CMD_MATRIX_END:
                    rows.append([self.additive()])
        self.take(_T.CMD_MATRIX_END)
        return sympy.Matrix(rows)

    def _closing(self, start: int) -> int:
        """Index of the token that closes the bracket at ``start`` (``_Outside`` if none)."""
        if start >= len(self.tokens) or self.tokens[start][0] not in _OPENING:
            raise _Outside
        opening, depth = self.tokens[start][0], 0
        closing = _OPENING[opening]
        for index in range(start, len(self.tokens)):
            kind = self.tokens[index][0]
            depth += (kind == opening) - (kind == closing)
            if depth == 0:
                return index
        raise _Outside

    def relation(self):
        left = self.side()
        while self.peek() in _RELATIONS:
            kind = self.peek()
            self.take()
            left = _relate(_RELATIONS[kind], left, self.side())
        return left

    def side(self):
        """One side of a relation; ``(1)`` reads as ``1`` either way, but ``{1}`` may be a set there."""
        start = self.pos
        value = self.additive()
        if self.tokens[start][0] == _T.L_BRACE and self._closing(start) == self.pos - 1:
            raise _Outside
        return value

    def additive(self):
        left = self.mp()
        while self.peek() in (_T.ADD, _T.SUB):
            minus = self.peek() == _T.SUB
            self.take()
            right = self.mp()
            if minus:
                right = -right if _is_number(right) else self.build.mul_flat(-1, right)
            left = self.build.add_flat(left, right)
        return left

    def mp(self, nofunc: bool = False):
        """``mp`` (or ``mp_nofunc``, the argument of a function written without parentheses)."""
        left = self.unary(nofunc)
        while self.peek() in _PRODUCTS or self.peek() in _QUOTIENTS:
            quotient = self.peek() in _QUOTIENTS
            self.take()
            right = self.unary(nofunc)
            if not quotient:
                left = self.build.mul_flat(left, right)
            elif left.is_Integer and right.is_Integer:
                left = sympy.Rational(left, right)
            else:
                left = sympy.Mul(left, sympy.Pow(right, -1, evaluate=False), evaluate=False)
        return left

    def unary(self, nofunc: bool = False):
        """``unary``: signs, then implicit products (``unary_nofunc``: only the first factor may be a function)."""
        if self.peek() == _T.ADD:
            self.take()
            return self.unary(nofunc)
        if self.peek() == _T.SUB:
            self.take()
            value = self.unary(nofunc)
            return -value if _is_number(value) or value.is_Number else self.build.mul_flat(-1, value)
        factors = [self.postfix(calls=not nofunc)]
        while self.peek() in (_STARTS_NOFUNC if nofunc else _STARTS_POSTFIX) and not (self.in_bars and
                                                                                      self.peek() == _T.BAR):
            factors.append(self.postfix(calls=not nofunc))
        return self._product(factors, 0)

    def _product(self, factors: list, i: int):
        """``convert_postfix_list``: implicit products, right to left, with ``2\\frac{1}{2}`` a mixed number."""
        value = factors[i]
        if not isinstance(value, sympy.Expr):
            raise _Outside
        if i == len(factors) - 1:
            return value
        rest = self._product(factors, i + 1)
        if value.is_Integer and rest.is_Rational and rest.p > 0 and rest.q > 0:
            return sympy.Rational(value * rest.q - rest.p if value < 0 else value * rest.q + rest.p, rest.q)
        return self.build.mul_flat(value, rest)

    def postfix(self, calls: bool = True):
        value = self.exp(calls)
        while self.peek() == _T.BANG:
            self.take()
            value = sympy.factorial(value, evaluate=False)
        return value

    def exp(self, calls: bool = True):
        value = self.comp(calls)
        while self.peek() == _T.CARET:
            self.take()
            value = sympy.Pow(value, self.superscript(), evaluate=False)
            if self.peek() == _T.UNDERSCORE:  # the grammar drops a subscript here
                raise _Outside
        return value

    def superscript(self):
        """``^`` followed by an ``atom`` or a braced ``expr`` (``supexpr``)."""
        if self.peek() == _T.L_BRACE:
            self.take()
            value = self.additive()
            self.take(_T.R_BRACE)
            return value
        if self.peek() == _T.NUMBER and self.peek(1) == _T.UNDERSCORE:  # ``x^2_n``: the library reads x_n^2
            raise _Outside
        return self.atom(calls=False)

    def comp(self, calls: bool = True):
        kind = self.peek()
        if kind == _T.BAR:  # ``abs_group``
            if not self.abs_ok or self.in_bars:
                raise _Outside
            self.take()
            self.in_bars = True
            value = self.additive()
            self.take(_T.BAR)
            self.in_bars = False
            return sympy.Abs(value, evaluate=False)
        if kind in _OPENING:
            self.take()
            value = self.additive()
            self.take(_OPENING[kind])
            return value
        if kind == _T.CMD_FRAC:
            self.take()
            if self.peek_at(self._closing(self.pos) + 1) == _T.L_BRACE:  # ``\frac{d}{dx}``: a derivative there
                lower = self.tokens[self._closing(self.pos) + 2: self._closing(self._closing(self.pos) + 1)]
                if len(lower) == 1 and lower[0][0] == _T.DIFFERENTIAL:
                    raise _Outside
            upper, lower = self.braced(), self.braced()
            if upper.is_Integer and lower.is_Integer:
                return sympy.Rational(upper, lower)
            return sympy.Mul(upper, sympy.Pow(lower, -1, evaluate=False), evaluate=False)
        if kind == _T.FUNC_SQRT:
            self.take()
            root = None
            if self.peek() == _T.L_BRACKET:
                self.take()
                root = self.additive()
                self.take(_T.R_BRACKET)
            base = self.braced()
            return sympy.Pow(base, sympy.S.Half if root is None else 1 / root, evaluate=False)
        if kind == _T.CMD_BINOM:
            self.take()
            upper, lower = self.braced(), self.braced()
            return sympy.binomial(upper, lower)
        if kind in _FUNCTIONS:
            return self.function()
        if kind == _T.EXP_E:  # ``e`` and ``e^x``: the exponential function, evaluated (``handle_exp``)
            self.take()
            if self.peek() != _T.CARET:
                return sympy.exp(1)
            self.take()
            return sympy.exp(self.superscript())
        return self.atom(calls)

    def function(self):
        r"""``\sin x``, ``\sin(x)``, ``\sin^2 x``, ``\sin^{-1} x``, ``\log_2 8``, ``\ln x``: the ``func`` rule and
        ``convert_func``. A bracket right after the name (and its scripts) is the argument; otherwise the argument
        is an ``mp_nofunc`` (``\sin 2x`` is sin(2x), ``\sin x \cos x`` is sin(x) cos(x))."""
        name = self.take()[1:]
        base = power = None
        for _ in range(2):
            if self.peek() == _T.UNDERSCORE and base is None:
                self.take()
                base = self.superscript()  # ``subexpr``: an atom or a braced expr, like ``supexpr``
            elif self.peek() == _T.CARET and power is None:
                self.take()
                power = self.superscript()
        if base is not None and name not in ("log", "ln"):  # the library drops such a subscript
            raise _Outside
        if self.peek() == _T.L_PAREN:
            self.take()
            argument = self.additive()
            self.take(_T.R_PAREN)
        else:
            argument = self.mp(nofunc=True)
        if name in ("log", "ln"):
            value = sympy.log(argument, base if base is not None else 10 if name == "log" else sympy.E, evaluate=False)
        elif name == "exp":
            value = sympy.exp(argument, evaluate=False)
        else:
            if name.startswith("arc"):
                name = "a" + name[3:]
            elif power == -1:  # ``\sin^{-1}``: the inverse function
                name, power = "a" + name, None
            value = getattr(sympy, name)(argument, evaluate=False)
        return sympy.Pow(value, power, evaluate=False) if power else value

    def braced(self):
        self.take(_T.L_BRACE)
        value = self.additive()
        self.take(_T.R_BRACE)
        return value

    def atom(self, calls: bool = False):
        kind = self.peek()
        if kind == _T.NUMBER:
            text = self.take()
            # ``parse_number``: ``sympy.Number(text)`` (a slow ``sympify``) is ``Integer(int(text))`` for digits
            value = sympy.Integer(int(text)) if text.isdigit() else self.build.parse_number(text)
            if self.peek() == _T.UNDERSCORE:  # ``number_subexpr``: the library ignores the subscript (``1010_2``)
                self.take()
                self.superscript()
            return value
        if kind == _T.DIFFERENTIAL:  # ``dx``, ``d x``: one symbol ``dx`` (``get_differential_var``)
            name = self.build.get_differential_var_str(self.take())
            return sympy.Symbol("d" + self.build.create_symbol(name, enforce_case=True).name)
        if kind == _T.SYMBOL:
            if self.take().replace("\\$", "").replace("\\%", "") != "\\infty":
                raise _Outside
            return sympy.oo
        if kind in _NAMES:
            return self.name(calls)
        raise _Outside

    def name(self, calls: bool):
        """``atom_expr``: a letter or Greek letter with an optional plain subscript and superscript (either order).
        Followed by a bracket holding a single atom it is a call there (the ``func`` rule, ``f(x)``, ``g_1(2)^2``),
        read where a full ``comp`` may stand (``calls``); ``x(x+1)`` is a product."""
        start = self.pos
        text = self.take()
        subscript, power, name_end, call_order = "", None, self.pos, True
        for _ in range(2):
            if self.peek() == _T.UNDERSCORE and not subscript:
                call_order = power is None  # ``f^2_1(x)`` is no call there: the subscript must come first
                self.take()
                subscript = self.subscript()
                name_end = self.pos
            elif self.peek() == _T.CARET and power is None:
                self.take()
                power = self.superscript()
        call = self._call_ahead()
        if text == "I":  # the library returns sympy.I at once and drops what follows: left to it then
            if subscript or power is not None or call is not False:
                raise _Outside
            return sympy.I
        if call is None or (call and not (calls and call_order)):
            raise _Outside
        if call:
            close = self._closing(self.pos)
            argument = "".join(token_text for _, token_text in self.tokens[self.pos + 1: close])
            self.pos = close + 1
            tokens = _tokens(argument)  # the library parses the argument's text again, as a whole text
            if tokens is None:
                raise _Outside
            value = sympy.Function("".join(t for _, t in self.tokens[start:name_end]))(_Parser(tokens).whole())
            return value if power is None else sympy.Pow(value, power, evaluate=False)
        symbol = get_symbol(text.strip() + subscript, None, False)
        return symbol if power is None else sympy.Pow(symbol, power, evaluate=False)

    def subscript(self) -> str:
        if self.peek() in (_T.NUMBER, _T.LETTER_NO_E):
            letter = self.peek() == _T.LETTER_NO_E
            text = self.take()
            if letter and self.peek() == _T.CARET:  # ``a_k^2``: the library may read ``k^2`` as the subscript
                raise _Outside
        else:
            self.take(_T.L_BRACE)
            text = ""
            while self.peek() in (_T.NUMBER, _T.LETTER_NO_E):
                text += self.take()
            self.take(_T.R_BRACE)
            if not text:
                raise _Outside
        return "_{" + text + "}" if len(text) > 1 else "_" + text

    def _call_ahead(self) -> bool | None:
        r"""Is the bracket ahead a call's argument? ``True`` for ``(y)``, ``[2]``, ``(x^2)``: a single ``atom``
        inside, which the ``func`` rule reads as a call; ``False`` for no bracket, or more than an atom inside
        (``x(x+1)``, ``x(2y)``, ``x(-y)``: a product); ``None`` for ``{(y)}`` or an atom that is not plain here."""
        kind = self.peek()
        if kind == _T.L_BRACE:
            return None if self.peek(1) in (_T.L_PAREN, _T.L_BRACKET) else False
        if kind not in (_T.L_PAREN, _T.L_BRACKET):
            return False
        inside = _Parser(self.tokens[self.pos + 1: self._closing(self.pos)])
        if not inside.tokens or inside.peek() not in (_T.NUMBER, _T.SYMBOL, _T.DIFFERENTIAL, *_NAMES):
            return False if inside.tokens else None
        try:
            inside.atom()
        except _Outside:
            return None
        return inside.pos == len(inside.tokens)


def _is_number(value) -> bool:
    return bool(getattr(getattr(value, "func", None), "is_Number", False))


def _relate(relation, left, right):
    """``convert_relation``: ``a < b < c`` is ``And(a < b, b < c)``, built with the library's ``And``."""
    if isinstance(left, And):
        return And(*left._unsorted_args, relation(left._unsorted_args[-1].rhs, right, evaluate=False))
    if isinstance(left, Relational):
        return And(left, relation(left.rhs, right, evaluate=False))
    return relation(left, right, evaluate=False)

"""Math spans inside prose: masked to one placeholder character each while a sentence is read, put back after.
It must never raise and stay linear in the text: extraction runs it on whatever a policy writes."""

from __future__ import annotations

import re

from rewards.answers.normalize import CJK, unwrap_math

MAX_SPAN_CHARS = 300  # a $...$ body longer than this is not one math span

# Math spans: display forms first, then $...$ paired by hand (a lone or prose-enclosing $ is currency).
_DISPLAY_SPAN = re.compile(r"\$\$.{1,600}?\$\$|\\\(.{1,600}?\\\)|\\\[.{1,600}?\\\]|"
                           r"\\begin\{([a-zA-Z]{1,12}\*?)\}.{0,600}?\\end\{\1\}", re.DOTALL)
_DOLLAR = re.compile(r"(?<!\\)\$")
PLACEHOLDER = "[\ue000-\uf7ff]"
PLACEHOLDERS = re.compile(PLACEHOLDER)
_WORD3 = re.compile(r"[A-Za-z]{3,}")
# a word of two or more letters in any script, and each CJK character (a word on its own)
_PROSE_WORD = re.compile(rf"[{CJK}]|[^\W\d_{CJK}]{{2,}}")
_COMMANDS = re.compile(r"\\[a-zA-Z]+")
_TEXT_GROUP = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mbox|textnormal|operatorname)\s*\{([^{}]*)\}")


def is_prose(text: str) -> bool:
    """Three or more words outside LaTeX commands and ``\\text{}``: a sentence, not a formula.

    >>> is_prose(r"\\frac{1}{2} \\text{ or } 3"), is_prose("so the total is 12"), is_prose("因此，总共有 13 只鸟")
    (False, True, True)
    """
    bare = re.sub(r"\\[a-zA-Z]+\s*(?:\{[^{}]*\})?", " ", text)
    return len(_PROSE_WORD.findall(bare)) >= 3


def plain(text: str) -> str:
    """``text`` with ``\\text{...}``-like groups unwrapped, for reading its words.

    >>> plain(r"6 \\text{ or } 7")
    '6  or  7'
    """
    return _TEXT_GROUP.sub(lambda m: m.group(1), text)


def mask_math(text: str) -> tuple[str, list[str]]:
    r"""``text`` with each math span (``$...$``, ``$$...$$``, ``\(...\)``, ``\[...\]``, ``\begin{env}...\end{env}``)
    replaced by one private-use character, and the spans. A ``$`` that encloses prose or is followed by a digit
    is currency, not math. A span may hold the placeholder of an environment inside it: ``unmask`` restores both.

    >>> mask_math("costs $2 each: so $x = 5$ and $3 more")[1]
    ['$x = 5$']
    """
    text = PLACEHOLDERS.sub(" ", text)
    spans: list[str] = []

    def hold(span: str) -> str:
        spans.append(span)
        return chr(0xE000 + len(spans) - 1)

    text = _DISPLAY_SPAN.sub(lambda m: hold(m.group()), text)
    out, last, opener = [], 0, None
    for dollar in _DOLLAR.finditer(text):
        i = dollar.start()
        if opener is None:
            opener = i
            continue
        body = text[opener + 1: i]
        if (len(body) <= MAX_SPAN_CHARS and body.strip() and not is_prose(body) and not text[i + 1: i + 2].isdigit()
                and not (body[:1].isdigit() and _WORD3.search(_COMMANDS.sub(" ", body)))):
            out.append(text[last:opener])
            out.append(hold(text[opener: i + 1]))
            last, opener = i + 1, None
        else:
            opener = i  # the earlier $ was currency; this one may open a span
    out.append(text[last:])
    return "".join(out), spans


def unmask(text: str, spans: list[str], bodies: bool = False) -> str:
    r"""``text`` with its placeholders put back: the spans as written, or (``bodies``) without delimiters.

    >>> masked, spans = mask_math(r"so $M = \begin{pmatrix} 1 \end{pmatrix}$.")
    >>> unmask(masked, spans), unmask(masked, spans, bodies=True)
    ('so $M = \\begin{pmatrix} 1 \\end{pmatrix}$.', 'so M = \\begin{pmatrix} 1 \\end{pmatrix}.')
    """
    def put_back(match: re.Match) -> str:
        index = ord(match.group()) - 0xE000
        if index >= len(spans):
            return match.group()
        span = PLACEHOLDERS.sub(put_back, spans[index])  # an environment masked inside a $...$ span
        return unwrap_math(span) if bodies else span

    return PLACEHOLDERS.sub(put_back, text)

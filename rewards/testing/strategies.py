"""Inputs that break naive rewards: the adversarial corpus and Hypothesis strategies for completions, golds, batches.
It must never need Hypothesis at import time: only the strategies do, and they say so in one line."""

from __future__ import annotations

from typing import Any

# Text that breaks naive rewards: unbalanced, nested and repeated tags, broken braces, control
# characters, odd unicode, huge input, and LaTeX that makes SymPy hang or overflow.
LATEX_BOMBS: tuple[str, ...] = (
    r"\boxed{9^{9^{9^{9^{9}}}}}",
    r"<answer>(x+1)^{100000}</answer>",
    r"\boxed{100000!}",
    r"<answer>1e999999999</answer>",
    r"\boxed{" + r"\sqrt{" * 200 + "2" + "}" * 201,
    r"\boxed{\frac{1}{0}}",
)
ADVERSARIAL: tuple[str, ...] = (
    "",
    " \n\t ",
    "<think>",
    "</answer>",
    "<think>a</think><answer>4</answer>",
    "<think>\nadd\n</think>\n<answer>\n4\n</answer>\n",
    "<think><think>a</think></think><answer>4</answer>",
    "<answer>4</answer><answer>5</answer>",
    "<think>a</think><answer>4</answer> trailing text",
    "<answer></answer>",
    "<answer><answer>4</answer>",
    "</think><think></answer><answer>",
    r"\boxed{",
    r"\boxed{\boxed{1}",
    "}}}{{{",
    r"$\frac{1}{2}$ and \boxed{\frac{1}{2}}",
    "(1) pick up cup (2) open door",
    "a b a b a b a b",
    "Step 1: add\nStep 2: carry\nFinally, 46",
    "\x00\x01\x1b[31m\x7f\u200b\ufeff",
    "\ud800 lone surrogate",
    "مرحبا 你好 \U0001f4a5" * 20,
    "nan inf -inf 1e309 -0",
    "x" * 100_000,
    "word " * 20_000,
    *LATEX_BOMBS,
)
GOLDS: tuple[Any, ...] = ("4", "", None, "46", "(1) pick up cup (2) open door", 4, "-1")

_HYPOTHESIS_MISSING = "{what} needs hypothesis, which the 'dev' extra installs: pip install 'grpokit[dev]' (or pip install hypothesis)"


def require_hypothesis(what: str) -> None:
    try:
        import hypothesis  # noqa: F401
    except ModuleNotFoundError:
        raise ModuleNotFoundError(_HYPOTHESIS_MISSING.format(what=what), name="hypothesis") from None


_FRAGMENTS = (
    "<think>", "</think>", "<answer>", "</answer>", "<latex>", "</latex>", "<think", "answer>",
    "\\boxed{", "\\fbox{", "{", "}", "\\frac{1}{2}", "$", "$$", "\\(", "\\)", "\n", " ", "\t",
    "4", "-1", "0.5", "46", "1,000", "(1) ", "(2) ", ";", ",", "Step 1:", "Finally,", "- ", "\x00", "é", "\U0001f4a5",
)


def texts(*, latex_bombs: bool = True, max_fragments: int = 30):
    """Adversarial completion texts: tag and brace soup, any unicode, control characters, empty and
    huge strings, the ``ADVERSARIAL`` corpus and (unless ``latex_bombs=False``) LaTeX that makes SymPy hang.

    >>> from hypothesis import find
    >>> find(texts(), lambda t: "<think>" in t)
    '<think>'
    """
    require_hypothesis("rewards.testing.texts()")
    from hypothesis import strategies as st

    soup = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=4)), max_size=max_fragments).map("".join)
    corpus = [t for t in ADVERSARIAL if latex_bombs or t not in LATEX_BOMBS]
    return st.one_of(
        soup,
        st.text(max_size=60),
        st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp"]), max_size=20),
        st.sampled_from(corpus),
        st.integers(1_000, 20_000).map(lambda n: "ab " * n),
    )


def completions(*, conversational: bool | None = None, malformed: bool = False, latex_bombs: bool = True):
    """One completion: a string or a conversation whose last assistant message holds the text
    (``conversational`` forces one form). ``malformed=True`` adds shapes trainers should never send
    (None, numbers, messages without content, content as a list of parts) for rewards that promise
    never to raise on anything."""
    require_hypothesis("rewards.testing.completions()")
    from hypothesis import strategies as st

    text = texts(latex_bombs=latex_bombs)
    chat = st.builds(
        lambda t, before: [*before, {"role": "assistant", "content": t}],
        text,
        st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "content": st.text(max_size=10)}),
                 max_size=2),
    )
    options = {True: [chat], False: [text], None: [text, chat]}[conversational]
    if malformed:
        options += [
            st.none(), st.integers(), st.just([]), st.just([{"role": "assistant"}]),
            text.map(lambda t: [{"role": "assistant", "content": [{"type": "text", "text": t}, {"type": "image"}]}]),
        ]
    return st.one_of(*options)


def golds():
    """Gold answers that keep a math check cheap: small integers (as text or numbers), empty and missing."""
    require_hypothesis("rewards.testing.golds()")
    from hypothesis import strategies as st

    return st.one_of(st.integers(-50, 50).map(str), st.integers(-50, 50), st.just(""), st.none())


def batches(*, min_size: int = 1, max_size: int = 8, gold=None, **completion_options):
    """``(completions, kwargs)`` as a trainer passes them: a ``solution`` column (``gold`` strategy,
    default ``golds()``), ``prompts`` forming one to three groups, sometimes ``completion_ids``, and
    trainer extras. ``completion_options`` go to ``completions``.

    >>> from hypothesis import find
    >>> completions_, kwargs = find(batches(), lambda b: len(b[0]) == 2)
    >>> len(kwargs["solution"]) == len(kwargs["prompts"]) == 2
    True
    """
    require_hypothesis("rewards.testing.batches()")
    from hypothesis import strategies as st

    sample = st.tuples(completions(**completion_options), gold if gold is not None else golds(),
                       st.integers(0, 2), st.integers(0, 300))

    def build(drawn):
        rows, with_ids = drawn
        kwargs: dict[str, Any] = {
            "solution": [row[1] for row in rows],
            "prompts": [f"prompt {row[2]}" for row in rows],
            "trainer_state": None,
        }
        if with_ids:
            kwargs["completion_ids"] = [list(range(row[3])) for row in rows]
        return [row[0] for row in rows], kwargs

    return st.tuples(st.lists(sample, min_size=min_size, max_size=max_size), st.booleans()).map(build)


"""The held-out sets stay held out: no held-out gold or completion appears anywhere under tests/, rewards/ or bench/,
so no rule, test or speed figure was written against them. A row someone learns from leaves the held-out figure
for the development table (fixtures/verify_heldout.py ``SETS``); fixtures/ is where the development table lives.

Strings shorter than ``MIN_CHARS`` after collapsing whitespace (``72``, ``\\frac{1}{2}``, ``(B)``) are every
grader's everyday answers and are not looked for: a table of their own kind must stay free to hold them. So are the
strings in ``EARLIER``, which were in our tests before the held-out set that also holds them was collected (the commit
that added each is named): a public dump that happens to contain ``The answer is 5.`` leaks nothing."""

import ast
import sys
from pathlib import Path

import pytest

from fixtures.verify_heldout import SETS, heldout, row_id

ROOT = Path(__file__).resolve().parents[2]
SEARCHED = ("tests", "rewards", "bench")
SUFFIXES = {".py", ".json", ".jsonl", ".md", ".yaml", ".yml", ".txt", ".cfg", ".toml"}
MIN_CHARS = 12
EARLIER = {
    "The answer is 5.",  # tests/verify/test_verify_extraction.py since 04c38a4 (2026-11-24); in set 3's dumps too
    "\\frac{3}{56}",  # tests/verify/test_verify_extraction.py since bebad49 (2026-11-24); a set 3 gold
    "\\frac{\\sqrt{3}}{3}",  # tests/verify/test_verify_symbolic.py since a492104 (2026-12-01); a set 5 gold
    "\\text{Evelyn}",  # tests/verify/test_verify_commitment.py since a492104 (2026-12-01); a set 6 gold
    "\\frac{1}{\\sqrt{2}}",  # tests/verify/test_verify_symbolic.py since a492104 (2026-12-01); a set 9 gold
    "\\left( 3, \\frac{\\pi}{2} \\right)",  # tests/evalsuite/test_prompting.py since ed5ea82 (2026-12-01); sets 3, 6
}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _searched_text() -> str:
    """Every file's text under the searched folders, and every string constant of their Python files as Python
    reads it (escapes decoded, implicit concatenation joined), whitespace collapsed, one haystack."""
    parts = []
    for folder in SEARCHED:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or path.suffix not in SUFFIXES or "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            parts.append(_flat(text))
            if path.suffix == ".py":
                parts.extend(_flat(node.value) for node in ast.walk(ast.parse(text))
                             if isinstance(node, ast.Constant) and isinstance(node.value, str))
    return "\x00".join(parts)


@pytest.fixture(scope="module")
def haystack():
    return _searched_text()


@pytest.mark.parametrize("number", list(SETS))
def test_no_heldout_string_appears_under_tests_code_or_bench(haystack, number):
    leaks = [(row_id(row), field) for row in heldout(number) for field in ("gold", "completion")
             if len(_flat(row[field])) >= MIN_CHARS and _flat(row[field]) not in EARLIER and _flat(row[field]) in haystack]
    assert not leaks, f"held-out set {number} rows found under {SEARCHED} (row_id, field): {leaks}"


def test_the_search_finds_a_planted_string(tmp_path, monkeypatch):
    planted = tmp_path / "tests" / "test_planted.py"
    planted.parent.mkdir()
    planted.write_text('ROWS = [("x", "The answer is\\n   $\\\\boxed{4}$ after all")]\n')
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    text = _searched_text()
    assert _flat("The answer is $\\boxed{4}$ after all") in text

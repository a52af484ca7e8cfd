"""`evalsuite report`: one self-contained report.html (nothing fetched, checked by a Content-Security-Policy and
by watching the browser's requests), rendered in a real headless Chromium without console errors, with working
filters; with two runs, the flipped prompts side by side."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from evalsuite import score
from evalsuite.cli import main
from evalsuite.html_report import histogram, length_bins, reason, write_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _completion(i: int, right: bool, j: int) -> str:
    """Sample j of prompt i: the right answer 2i+1 or a wrong one of its own; prompt 6's wrong samples give
    no answer at all. Prompts 1, 4 and 7 reason at length (and hit the budget)."""
    steps = "Add the two numbers. " * (1 + 6 * (i % 3 == 1))
    if i == 6 and not right:
        return f"<think>{steps}</think>I am not sure"
    answer = str(2 * i + 1) if right else str(100 + 10 * i + j)
    return f"<think>{steps}</think><answer>{answer}</answer>" if j % 2 == 0 else f"{steps}So the answer is $\\boxed{{{answer}}}$."


def _run(folder: Path, right: list[list[bool]]) -> Path:
    """A scored run: prompt i has one completion per entry of right[i] (True: a right answer); prompt 5 has no gold."""
    folder.mkdir(parents=True)
    lines = []
    for i, flags in enumerate(right):
        completions = [_completion(i, ok, j) for j, ok in enumerate(flags)]
        lines.append(json.dumps({
            "id": f"q{i}", "prompt": [{"role": "system", "content": "Think, then answer."},
                                      {"role": "user", "content": f"What is {i}+{i + 1}? <b>bold</b>"}],
            "solution": "" if i == 5 else str(2 * i + 1), "completions": completions,
            "lengths": [len(c) // 3 for c in completions], "truncated": [len(c) > 120 for c in completions],
        }))
    (folder / "samples.jsonl").write_text("\n".join(lines) + "\n")
    score(folder / "samples.jsonl", k=(1, 2), rewards=("accuracy", "format", "tag_count"))
    return folder


# verdicts (maj@2; a 1-1 tie goes to the first sample): A right q0 q1 q3, wrong q2 q4 q6, no gold q5;
# B flips q1 to wrong and q2, q6 to right
RIGHT_A = [[True, True], [True, False], [False, False], [True, True], [False, True], [True, True], [False, False]]
RIGHT_B = [[True, True], [False, False], [True, True], [True, True], [False, True], [True, True], [True, True]]


@pytest.mark.parametrize(
    "info,expected",
    [
        ({"outcome": {"status": "equal", "path": "string", "detail": ""}}, "equal (string)"),
        ({"outcome": {"status": "timeout", "path": "sympy", "detail": "5.0 s"}}, "timeout (sympy): 5.0 s"),
        ({"details": {"status": "not_equal"}}, "not equal"),
        ({"value": None}, "no gold"),
        ({"value": 1.0}, "correct"),
        ({"error": "ValueError: x"}, "no explanation (ValueError: x)"),
    ],
)
def test_reason(info, expected):
    assert reason(info) == expected


def test_histogram_and_length_bins():
    assert histogram([]) == ([], [])
    assert histogram([0.5, 0.5, -1.0]) == (["-1", "0.5"], [1, 2])
    labels, counts = histogram([float(i) for i in range(20)], bins=4)
    assert counts == [5, 5, 5, 5] and labels[0] == "0–4.75"
    assert length_bins([(5, True)] * 3 + [(9, False)], bins=3) == [("5", 3, 1.0), ("9", 1, 0.0)]  # equal lengths stay together


def test_report_is_self_contained(tmp_path, capsys):
    a = _run(tmp_path / "a", RIGHT_A)
    assert main(["report", str(a)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {a / 'report.html'}"
    page = (a / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert not re.search(r"https?://", page)  # not even in a comment
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page  # row text is escaped
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    for section in ("metrics", "rewards", "length", "truncation", "prompts"):
        assert f'id="{section}"' in page
    assert page.count('class="prompt"') == len(RIGHT_A)


def test_a_report_beside_other_runs_never_replaces_the_runs_own(tmp_path, capsys):
    a, b, c = _run(tmp_path / "a", RIGHT_A), _run(tmp_path / "b", RIGHT_B), _run(tmp_path / "c", RIGHT_B)
    cases = [  # (arguments, the page written)
        ([a], a / "report.html"),
        ([a, b], a / "report-vs-b.html"),
        ([a, b, c], a / "report-vs-b+c.html"),
        ([a, b, "--output", tmp_path / "pages" / "a-b.html"], tmp_path / "pages" / "a-b.html"),
        ([a, b, c, "-o", tmp_path / "sweep.html"], tmp_path / "sweep.html"),
        ([a, "--output", tmp_path / "a.html"], tmp_path / "a.html"),
    ]
    own = None
    for args, page in cases:
        assert main(["report", *map(str, args)]) == 0
        assert capsys.readouterr().out.strip() == f"wrote {page}"
        assert "evalsuite report" in page.read_text()
        own = own or (a / "report.html").read_text()
        assert (a / "report.html").read_text() == own  # the one-run page is left as it was
    assert "A vs B" in (a / "report-vs-b.html").read_text() and "A vs B" not in own
    assert sorted(p.name for p in a.glob("*.html")) == ["report-vs-b+c.html", "report-vs-b.html", "report.html"]


def test_report_errors_are_one_line(tmp_path, capsys):
    assert main(["report", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err.strip() == f"evalsuite: error: {tmp_path / 'none'}: no such folder"
    a = _run(tmp_path / "a", RIGHT_A)
    assert main(["report", str(a), "--samples-per-prompt", "0"]) == 2
    assert capsys.readouterr().err.strip() == "evalsuite: error: samples_per_prompt must be >= 1, got 0"
    (tmp_path / "file").write_text("")
    assert main(["report", str(a), "--output", str(tmp_path / "file" / "r.html")]) == 2
    assert capsys.readouterr().err.strip().startswith(f"evalsuite: error: cannot write the report to {tmp_path / 'file' / 'r.html'}: ")


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        engine = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                   args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield engine
        engine.close()


def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


def _visible_ids(page) -> list[str]:
    return page.eval_on_selector_all("#prompt-table tbody tr.prompt:not(.hidden) td:first-child",
                                     "cells => cells.map(c => c.textContent)")


@pytest.mark.slow
def test_the_report_renders_in_chromium_and_its_filters_work(browser, tmp_path):
    a = _run(tmp_path / "a", RIGHT_A)
    page, problems, requests = _open(browser, write_report(a))
    assert requests == [(a / "report.html").as_uri()]  # nothing else was fetched
    assert page.title() == f"evalsuite report: {a}"
    assert page.locator("#metrics table tbody tr").count() >= 8
    assert page.locator("#rewards svg.chart").count() == 3  # accuracy, format, tag_count
    assert page.locator("#shown").text_content() == "showing 7 of 7 prompts"
    page.select_option("#verdict", "wrong")
    assert _visible_ids(page) == ["q2", "q4", "q6"]
    page.select_option("#verdict", "none")
    assert _visible_ids(page) == ["q5"]
    page.select_option("#verdict", "")
    page.fill("#search", "What is 3+4")
    assert _visible_ids(page) == ["q3"]
    page.fill("#search", "not sure")  # text inside the (collapsed) completions is searched too
    assert _visible_ids(page) == ["q6"]
    page.fill("#search", "3+4 bold")  # every word must match
    assert _visible_ids(page) == ["q3"]
    page.fill("#search", "")
    page.check("#truncated")
    assert _visible_ids(page) == ["q1", "q4"]  # the long-reasoning prompts with answers past 120 characters
    page.uncheck("#truncated")
    page.locator("tr.prompt").first.locator("summary").click()
    facts = page.locator("tr.prompt").first.locator(".sample .facts").first.text_content()
    assert "answer: 1" in facts and "verdict: right" in facts and "reason: equal" in facts
    assert problems == []
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000


@pytest.mark.slow
def test_two_runs_show_flipped_prompts_side_by_side(browser, tmp_path):
    a, b = _run(tmp_path / "a", RIGHT_A), _run(tmp_path / "b", RIGHT_B)
    assert main(["report", str(a), str(b)]) == 0
    page, problems, requests = _open(browser, a / "report-vs-b.html")
    assert len(requests) == 1 and problems == []
    flipped = page.eval_on_selector_all("#flips tbody tr", "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])")
    assert flipped == [["q1", "right → wrong"], ["q2", "wrong → right"], ["q6", "wrong → right"]]
    assert page.locator("#flips tbody tr").first.locator("td").nth(3).locator(".sample").count() == 1
    page.select_option("#flip", "any")
    assert _visible_ids(page) == ["q1", "q2", "q6"]
    page.select_option("#flip", "lost")
    assert _visible_ids(page) == ["q1"]
    assert page.locator("#comparison tbody tr").count() >= 8

"""The labeled tables: the development table (fixtures/verify_cases.py, rules were written against it) and the
frozen held-out sets (fixtures/verify_heldout.py, collected before the rules and never edited to suit them)."""

import hashlib

import pytest

from fixtures.verify_cases import ISSUE, KNOWN_MISSES, MV14, cases
from fixtures.verify_heldout import NEWEST, SETS, heldout, learned, row_id
from rewards.answers.engine import verify_batch

ROWS = cases()
HELDOUT = {number: heldout(number) for number in SETS}  # each set without its rows learned from


@pytest.fixture(scope="module")
def verdicts():
    return verify_batch([(row["completion"], row["gold"]) for row in ROWS], timeout=5.0)


def test_table_shape():
    assert len(ROWS) >= 400
    assert sum(not row["label"] for row in ROWS) / len(ROWS) >= 0.35
    assert all(row["source"] and row["category"] for row in ROWS)


def test_table_accuracy_and_false_equal_rate(verdicts):
    """Every row but the documented known misses (fixtures/verify_cases.py ``KNOWN_MISSES``, each with its reason) is
    held to 99% and no false "equal"; the whole table, known misses included, to 96%."""
    wrong = [row for row, verdict in zip(ROWS, verdicts, strict=True) if verdict != row["label"]]
    unexplained = [row for row in wrong if row_id(row) not in KNOWN_MISSES]
    graded = len(ROWS) - len(KNOWN_MISSES)
    assert 1 - len(unexplained) / graded >= 0.99, unexplained
    assert not [row for row in unexplained if not row["label"]], "false 'equal' outside the known misses"
    assert 1 - len(wrong) / len(ROWS) >= 0.96


def test_known_misses_are_development_rows():
    assert set(KNOWN_MISSES) <= {row_id(row) for row in ROWS}


@pytest.mark.parametrize("index", [i for i, row in enumerate(ROWS) if row["source"] in (ISSUE, MV14)])
def test_known_false_positives_and_misses(index, verdicts):
    row = ROWS[index]
    assert verdicts[index] is row["label"], row


def test_heldout_sets_are_frozen():
    for paths, _ in SETS.values():
        for path, sha in paths.items():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, path.name
    everything = heldout(1, include_learned=True)
    assert len(everything) >= 600 and sum(not row["label"] for row in everything) / len(everything) >= 0.35
    assert {row["kind"] for row in HELDOUT[1]} == {"model_output", "grader_suite", "hacking"}
    for number in range(2, NEWEST + 1):  # real model completions only, each row once
        rows = heldout(number, include_learned=True)
        assert len(rows) >= 150 and {row["kind"] for row in rows} == {"model_output"}, number
        assert len({row_id(row) for row in rows}) == len(rows), number
    for rows in HELDOUT.values():
        for row in rows:
            assert row["source"] and row["category"] and isinstance(row["label"], bool), row_id(row)


def test_learned_rows_left_the_heldout_figure_for_the_development_table():
    every_learned = set().union(*(ids for _, ids in SETS.values()))
    assert {row_id(row) for row in learned()} == every_learned
    for number, (_, ids) in SETS.items():
        assert {row_id(row) for row in heldout(number, include_learned=True)} >= ids, number
        assert not {row_id(row) for row in HELDOUT[number]} & ids, number
    assert not SETS[NEWEST][1], "the newest set is the unseen figure: learning from it needs a newer set first"
    assert {row_id(row) for row in ROWS} >= every_learned


def test_heldout_does_not_overlap_the_development_table():
    development = {(row["gold"], row["completion"]) for row in ROWS}
    assert not [row_id(row) for rows in HELDOUT.values() for row in rows
                if (row["gold"], row["completion"]) in development]

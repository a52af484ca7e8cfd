"""The labeled tables: the development table (fixtures/verify_cases.py, rules were written against it) and the
frozen held-out set (fixtures/verify_heldout.py, collected before the rules and never edited to suit them)."""

import hashlib

import pytest

from fixtures.verify_cases import ISSUE, MV14, cases
from fixtures.verify_heldout import (
    HELDOUT2_PATH,
    HELDOUT2_SHA256,
    HELDOUT3_PATHS,
    HELDOUT4_PATHS,
    HELDOUT5_PATHS,
    HELDOUT6_PATHS,
    HELDOUT7_PATHS,
    HELDOUT_PATH,
    HELDOUT_SHA256,
    LEARNED,
    LEARNED2,
    LEARNED3,
    LEARNED4,
    LEARNED5,
    LEARNED6,
    heldout,
    heldout2,
    heldout3,
    heldout4,
    heldout5,
    heldout6,
    heldout7,
    learned,
    row_id,
)
from rewards.answers.engine import verify_batch

ROWS = cases()
HELDOUT = heldout()
HELDOUT2 = heldout2()
HELDOUT3 = heldout3()
HELDOUT4 = heldout4()
HELDOUT5 = heldout5()
HELDOUT6 = heldout6()
HELDOUT7 = heldout7()


def _wrong(rows):
    verdicts = verify_batch([(row["completion"], row["gold"]) for row in rows], timeout=5.0)
    return [row for row, verdict in zip(rows, verdicts, strict=True) if verdict != row["label"]]


@pytest.fixture(scope="module")
def verdicts():
    return verify_batch([(row["completion"], row["gold"]) for row in ROWS], timeout=5.0)


def test_table_shape():
    assert len(ROWS) >= 400
    assert sum(not row["label"] for row in ROWS) / len(ROWS) >= 0.35
    assert all(row["source"] and row["category"] for row in ROWS)


def test_table_accuracy_and_false_equal_rate(verdicts):
    wrong = [row for row, verdict in zip(ROWS, verdicts, strict=True) if verdict != row["label"]]
    false_equal = [row for row in wrong if not row["label"]]
    negatives = sum(not row["label"] for row in ROWS)
    assert 1 - len(wrong) / len(ROWS) >= 0.97, wrong
    assert len(false_equal) <= 0.01 * negatives, false_equal


@pytest.mark.parametrize("index", [i for i, row in enumerate(ROWS) if row["source"] in (ISSUE, MV14)])
def test_known_false_positives_and_misses(index, verdicts):
    row = ROWS[index]
    assert verdicts[index] is row["label"], row


def test_heldout_sets_are_frozen():
    assert hashlib.sha256(HELDOUT_PATH.read_bytes()).hexdigest() == HELDOUT_SHA256
    assert hashlib.sha256(HELDOUT2_PATH.read_bytes()).hexdigest() == HELDOUT2_SHA256
    everything = heldout(include_learned=True)
    assert len(everything) >= 600 and sum(not row["label"] for row in everything) / len(everything) >= 0.35
    assert {row["kind"] for row in HELDOUT} == {"model_output", "grader_suite", "hacking"}
    assert len(HELDOUT2) >= 300 and {row["kind"] for row in HELDOUT2} == {"model_output"}
    for path, sha in {**HELDOUT3_PATHS, **HELDOUT4_PATHS, **HELDOUT5_PATHS, **HELDOUT6_PATHS, **HELDOUT7_PATHS}.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, path.name
    for rows in (heldout3(include_learned=True), heldout4(include_learned=True), heldout5(include_learned=True),
                 heldout6(include_learned=True), HELDOUT7):
        assert len(rows) >= 150 and {row["kind"] for row in rows} == {"model_output"}
        assert len({row_id(row) for row in rows}) == len(rows)
    for row in HELDOUT + HELDOUT2 + HELDOUT3 + HELDOUT4 + HELDOUT5 + HELDOUT6 + HELDOUT7:
        assert row["source"] and row["category"] and isinstance(row["label"], bool), row_id(row)


def test_learned_rows_left_the_heldout_figure_for_the_development_table():
    assert {row_id(row) for row in learned()} == LEARNED | LEARNED2 | LEARNED3 | LEARNED4 | LEARNED5 | LEARNED6
    assert not {row_id(row) for row in HELDOUT} & LEARNED and not {row_id(row) for row in HELDOUT2} & LEARNED2
    assert not {row_id(row) for row in HELDOUT3} & LEARNED3
    assert {row_id(row) for row in heldout2(include_learned=True)} >= LEARNED2
    assert {row_id(row) for row in heldout3(include_learned=True)} >= LEARNED3
    assert {row_id(row) for row in heldout4(include_learned=True)} >= LEARNED4 and not {row_id(r) for r in HELDOUT4} & LEARNED4
    assert {row_id(row) for row in heldout5(include_learned=True)} >= LEARNED5 and not {row_id(r) for r in HELDOUT5} & LEARNED5
    assert {row_id(row) for row in heldout6(include_learned=True)} >= LEARNED6 and not {row_id(r) for r in HELDOUT6} & LEARNED6
    assert {row_id(row) for row in ROWS} >= LEARNED | LEARNED2 | LEARNED3 | LEARNED4 | LEARNED5 | LEARNED6


def test_heldout_does_not_overlap_the_development_table():
    development = {(row["gold"], row["completion"]) for row in ROWS}
    assert not [row_id(row) for row in HELDOUT + HELDOUT2 + HELDOUT3 + HELDOUT4 + HELDOUT5 + HELDOUT6 + HELDOUT7
                   if (row["gold"], row["completion"]) in development]

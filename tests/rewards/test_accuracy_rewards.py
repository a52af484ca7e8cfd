"""Exact values of accuracy and exact_match: None only for a missing gold (or, with skip_undecided, a check the
grader could not finish), both completion forms."""

import pytest

import rewards
from rewards import accuracy_rewards
from rewards.answers.outcome import Outcome, Status


@pytest.mark.parametrize(
    "text,gold,expected",
    [
        ("<think>2+2</think><answer>4</answer>", "4", 1.0),
        ("<answer>5</answer>", "4", 0.0),
        ("The answer is \\boxed{12}.", "12", 1.0),
        ("<answer>12</answer>", "$12$", 1.0),
        ("", "4", 0.0),
        ("<answer>4</answer>", "", None),
        ("<answer>4</answer>", None, None),
        ("<answer>4</answer>", 4, 1.0),
        ("<answer>4</answer>", "   ", None),
    ],
)
def test_accuracy(text, gold, expected):
    fn = rewards.accuracy()
    assert fn([text], solution=[gold]) == [expected]
    assert fn([[{"role": "user", "content": "q"}, {"role": "assistant", "content": text}]], solution=[gold]) == [expected]


@pytest.mark.parametrize("status,default,skipping", [
    (Status.EQUAL, 1.0, 1.0),
    (Status.NOT_EQUAL, 0.0, 0.0),
    (Status.NO_ANSWER, 0.0, 0.0),  # the completion gave no answer: that is wrong, not undecided
    (Status.GOLD_UNPARSABLE, 0.0, None),
    (Status.TIMEOUT, 0.0, None),
    (Status.ERROR, 0.0, None),
])
def test_skip_undecided_gives_none_for_the_graders_failures(monkeypatch, status, default, skipping):
    monkeypatch.setattr(accuracy_rewards, "grade_batch", lambda pairs, timeout, config=None: [Outcome(status)] * len(pairs))
    assert rewards.accuracy()(["<answer>4</answer>"], solution=["4"]) == [default]
    assert rewards.accuracy(skip_undecided=True)(["<answer>4</answer>"], solution=["4"]) == [skipping]


def test_skip_undecided_on_an_unreadable_gold():
    texts, golds = ["<answer>4</answer>", "<answer>4</answer>", "no answer"], ["4", r"\frac{1}{", "4"]
    assert rewards.accuracy()(texts, solution=golds) == [1.0, 0.0, 0.0]
    assert rewards.accuracy(skip_undecided=True)(texts, solution=golds) == [1.0, None, 0.0]
    rows = rewards.get("accuracy", skip_undecided=True).rows(texts, solution=golds)
    assert [row["status"] for row in rows] == ["equal", "gold_unparsable", "no_answer"]


def test_skip_undecided_is_checked():
    assert rewards.parameters("accuracy")["skip_undecided"] is False
    with pytest.raises(ValueError, match="skip_undecided='yes'"):
        rewards.accuracy(skip_undecided="yes")


def test_accuracy_gold_key_scalar_and_missing_column():
    fn = rewards.accuracy(gold_key="answer")
    assert fn(["<answer>7</answer>", "<answer>8</answer>"], answer="7") == [1.0, 0.0]
    with pytest.raises(ValueError, match="gold_key='answer'"):  # the column it reads is absent altogether
        fn(["<answer>7</answer>"], solution=["7"])


@pytest.mark.parametrize(
    "tag,text,gold,expected",
    [
        ("latex", "<latex>x^{2}</latex>", "x^{2}", 1.0),
        ("latex", "<latex> x^{2}\n</latex>", "x^{2} ", 1.0),
        ("latex", "<latex>x ^{2}</latex>", "x^{2}", 0.0),
        ("latex", "<latex>x</latex><latex>y</latex>", "y", 1.0),  # last block counts
        ("latex", "x^{2}", "x^{2}", 0.0),  # no block, no answer
        ("latex", "<latex>x</latex>", "", None),
        (None, "<answer>Paris  France</answer>", "Paris France", 1.0),
        (None, "<answer>paris</answer>", "Paris", 0.0),
        (None, "no answer here", "Paris", 0.0),
    ],
)
def test_exact_match(tag, text, gold, expected):
    assert rewards.exact_match(tag=tag)([text], solution=gold) == [expected]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<latex>E = m c^{2}</latex>", 1.0),
        ("<latex>E=mc^3</latex>", 0.0),
        ("<latex>x</latex> then <latex>E=mc^2</latex>", 1.0),  # the last block counts, as in exact_match
        ("<latex>E=mc^2</latex> then <latex>x</latex>", 0.0),
        ("<latex>E=mc^2</latex><latex>x", 0.0),  # the last block is still open
        ("E=mc^2", 0.0),  # no block, no answer
        (r"$E=mc^2$", 0.0),
        ("<think><latex>E=mc^2</latex></think>", 0.0),  # only in the reasoning
        ("<think>draft</think><latex>E=mc^2</latex>", 1.0),
        ("<think>draft <latex>x</latex>", 0.0),  # truncated inside <think>
        (r"<latex>\boxed{E=mc^2}</latex>", 1.0),  # the committed answer inside the block
    ],
)
def test_accuracy_reads_the_answer_inside_the_last_tag_block(text, expected):
    fn = rewards.get("accuracy", tag="latex")
    assert fn([text], solution=["E=mc^2"]) == [expected]
    assert fn([[{"role": "assistant", "content": text}]], solution=["E=mc^2"]) == [expected]


def test_accuracy_tag_is_validated_as_in_exact_match():
    assert rewards.parameters("accuracy")["tag"] is None
    for bad in ("", "la tex", "<latex>", 3):
        with pytest.raises(ValueError, match="accuracy: invalid tag="):
            rewards.accuracy(tag=bad)
        with pytest.raises(ValueError, match="exact_match: invalid tag="):
            rewards.exact_match(tag=bad)


def test_accuracy_with_a_tag_keeps_its_other_parameters_and_pickles():
    import pickle

    fn = pickle.loads(pickle.dumps(rewards.accuracy(tag="latex", gold_key="formula", skip_undecided=True)))
    assert fn.__name__ == "accuracy"
    assert fn(["<latex>x^{2}</latex>", "<latex>x^2</latex>", "x^2"], formula=["x^2", r"\frac{1}{", "x^2"]) == [
        1.0, None, 0.0]
    rows = fn.rows(["<latex>x^{2}</latex>", "x^2"], formula="x^2")
    assert [(row["answer"], row["status"]) for row in rows] == [("x^{2}", "equal"), (None, "no_answer")]


def test_length_and_cosine_read_the_same_tag():
    texts = ["<latex>x^{2}</latex>", "<latex>x^{3}</latex> and more"]
    assert rewards.length(tag="latex")(texts, solution="x^2") == [0.5, -0.5]
    assert rewards.cosine(max_len=10, tag="latex")(texts, solution="x^2")[0] == pytest.approx(0.5)
    assert rewards.cosine(max_len=1000, tag="latex")(["x^2"], solution="x^2")[0] < 0  # no block: wrong
    with pytest.raises(ValueError, match="cosine: invalid tag="):
        rewards.cosine(tag="a b")


def test_explain_shows_the_answer_the_tagged_reward_read():
    info = rewards.explain(rewards.accuracy(tag="latex"), "<latex>E = m c^{2}</latex>", solution="E=mc^2")
    assert info["value"] == 1.0 and info["answer"] == "E = m c^{2}"
    assert info["outcome"]["status"] == "equal" and info["outcome"]["answer"] == "E = m c^{2}"
    combined = rewards.combine({rewards.accuracy(tag="latex"): 1.0, rewards.format(tags=("latex",)): 0.5})
    info = rewards.explain(combined, "<latex>E = m c^{2}</latex>", solution="E=mc^2")
    assert info["value"] == 1.5 and info["outcome"]["status"] == "equal"

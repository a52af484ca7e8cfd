"""User-style rewards referenced from test recipes as `tests.train.helper_rewards:NAME`.
They must never depend on grpokit internals: they stand in for a user's own module."""


def digit_count(completions, **kwargs):
    """Share of digit characters in the completion text."""
    texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    return [sum(ch.isdigit() for ch in t) / max(len(t), 1) for t in texts]


def make_constant(value: float = 1.0):
    """A factory: a reward that always returns ``value``."""

    def constant(completions, **kwargs):
        return [value] * len(completions)

    return constant


def slow_digit_count(completions, seconds: float = 0.2, **kwargs):
    """:func:`digit_count` after a pause, so a test can interrupt a run between two steps."""
    import time

    time.sleep(seconds)
    return digit_count(completions)

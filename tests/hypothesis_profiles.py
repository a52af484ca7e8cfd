"""Hypothesis settings for every property test: profile ``ci`` (the default) draws the same examples on every run, so
a test run can never fail by chance; ``fuzz`` (``make fuzz``) draws fresh ones, ``FUZZ_SCALE`` times as many.

A counterexample ``fuzz`` finds is fixed (or the property is), then pinned on its property as an ``@example``, which
both profiles run first."""

from __future__ import annotations

from hypothesis import settings

FUZZ_SCALE = 10  # ``fuzz`` runs this many times each property's ``ci`` count

# ``ci``: derandomized (the examples follow from each test's own code) with no example database, so the result of a
# run depends on the code alone; no deadline, since a loaded machine must not fail a test that is only slow.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=False)
# ``fuzz``: fresh randomness every run, failures replayed from the local database (.hypothesis/) first and printed
# with a ``@reproduce_failure`` blob.
settings.register_profile("fuzz", derandomize=False, deadline=None, print_blob=True, max_examples=100 * FUZZ_SCALE)


def examples(ci_count: int) -> int:
    """``max_examples`` for a property: ``ci_count`` under ``ci``, ``FUZZ_SCALE`` times as many under ``fuzz``."""
    return ci_count * (FUZZ_SCALE if settings.get_current_profile_name() == "fuzz" else 1)

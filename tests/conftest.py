"""Shared by every test: the Hypothesis profile, ``ci`` unless ``--hypothesis-profile=fuzz`` (``make fuzz``) or the
environment's ``HYPOTHESIS_PROFILE`` names another (the profiles: tests/hypothesis_profiles.py). An environment
without Hypothesis (the vLLM one, ``make test-vllm``, runs no property test) has nothing to configure."""

import importlib.util
import os

if importlib.util.find_spec("hypothesis") is not None:
    import hypothesis_profiles  # noqa: F401 (registers the profiles)
    from hypothesis import settings

    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

"""Shared by every test: the Hypothesis profile, ``ci`` unless ``--hypothesis-profile=fuzz`` (``make fuzz``) or the
environment's ``HYPOTHESIS_PROFILE`` names another (the profiles: tests/hypothesis_profiles.py)."""

import os

import hypothesis_profiles  # noqa: F401 (registers the profiles)
from hypothesis import settings

settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

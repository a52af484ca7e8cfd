"""Adapters that plug our rewards into other trainers: ms-swift ORMs, verl ``compute_score``, OpenRLHF ``reward_func``, plain batch scoring.
They must never import their trainer at import time: each adapter works (and is testable) without it installed."""

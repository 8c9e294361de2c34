"""Shared test configuration: hypothesis profiles.

Profiles: ``dev`` (default, quick), ``ci`` (more examples, used by .ci/run via
HYPOTHESIS_PROFILE=ci), ``thorough`` (for a long local run).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

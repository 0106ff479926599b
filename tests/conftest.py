"""Shared test settings: hypothesis runs derandomized so the suite gives the same verdict twice."""

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    derandomize=True,
    deadline=None,
    max_examples=int(os.environ.get("NNGRADE_TEST_EXAMPLES", "20")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("default")

# The suite grades with a held-out secret of its own (grader/secret.py), so its figures repeat
# on every checkout; subprocess gradings inherit it.
os.environ.setdefault("NNGRADE_SECRET_FILE", str(Path(__file__).with_name("heldout-test.secret")))

"""Shared test configuration: hypothesis profiles and the optional-oracle fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Derandomised with no deadline by default: these machines are shared and noisy, and a test run
# must give the same verdict twice. `HYPOTHESIS_PROFILE=explore` searches with fresh randomness.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "explore", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _required(env_var: str) -> bool:
    return os.environ.get(env_var, "") not in ("", "0")


@pytest.fixture(scope="session")
def torch():
    """PyTorch in float64, or a skip (a failure when GRADSTEP_REQUIRE_TORCH=1)."""
    try:
        import torch as torch_module
    except ImportError:
        if _required("GRADSTEP_REQUIRE_TORCH"):
            pytest.fail("GRADSTEP_REQUIRE_TORCH=1 but torch is not installed (pip install torch==2.13.0)")
        pytest.skip("torch is not installed (pip install torch==2.13.0 to run parity tests)")
    torch_module.set_default_dtype(torch_module.float64)
    return torch_module

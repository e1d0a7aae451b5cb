"""Shared test configuration: hypothesis profiles and the optional-oracle fixtures."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from tests.fixtures import CHROMIUM, CHROMIUM_FLAGS, required

# Derandomised with no deadline by default: these machines are shared and noisy, and a test run
# must give the same verdict twice. `HYPOTHESIS_PROFILE=explore` searches with fresh randomness.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "explore", deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def torch():
    """PyTorch in float64, or a skip (a failure when GRADSTEP_REQUIRE_TORCH=1)."""
    try:
        import torch as torch_module
    except ImportError:
        if required("GRADSTEP_REQUIRE_TORCH"):
            pytest.fail("GRADSTEP_REQUIRE_TORCH=1 but torch is not installed (pip install torch==2.13.0)")
        pytest.skip("torch is not installed (pip install torch==2.13.0 to run parity tests)")
    torch_module.set_default_dtype(torch_module.float64)
    return torch_module


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """A Playwright BrowserContext of headless Chromium with a fresh profile, or a skip (a failure when
    GRADSTEP_REQUIRE_BROWSER=1)."""

    def unavailable(reason: str):
        if required("GRADSTEP_REQUIRE_BROWSER"):
            pytest.fail(f"GRADSTEP_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)

    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install '.[browser]')")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        try:
            context = playwright.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_FLAGS,
                viewport={"width": 1200, "height": 800},
            )
        except PlaywrightError as error:
            unavailable(f"Chromium at {CHROMIUM} did not start: {str(error).splitlines()[0]}")
        yield context
        context.close()


@pytest.fixture(scope="session")
def jupyter():
    """The notebook tools (nbclient, nbformat, nbconvert, ipykernel, jupyterlab), or a skip (a failure
    when GRADSTEP_REQUIRE_JUPYTER=1, as CI sets it)."""
    missing = []
    for module in ("nbclient", "nbformat", "nbconvert", "ipykernel", "jupyterlab"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        reason = f"{', '.join(missing)} not installed (pip install '.[notebook]')"
        if required("GRADSTEP_REQUIRE_JUPYTER"):
            pytest.fail(f"GRADSTEP_REQUIRE_JUPYTER=1 but {reason}")
        pytest.skip(reason)

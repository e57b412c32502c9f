"""Shared test set-up: a non-interactive matplotlib backend, no figure left open, and the
headless Chromium that the site and JupyterLab tests drive."""

import os
import shutil
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # before anything imports matplotlib.pyplot
os.environ.setdefault("MINITRANSFORMER_PROGRESS", "0")

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened, so figures never pile up across tests."""
    yield
    plt.close("all")


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# .ci/run sets it: a missing browser fails the browser tests instead of skipping them.
REQUIRE_BROWSER = os.environ.get("MINITRANSFORMER_REQUIRE_BROWSER") == "1"
# Chromium's flags for a closed network: no background connections to the outside.
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, for the site and JupyterLab tests."""
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (Debian package 'chromium')"
        if REQUIRE_BROWSER:
            pytest.fail(message + "; MINITRANSFORMER_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()

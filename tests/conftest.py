"""Shared test set-up: a non-interactive matplotlib backend and no figure left open."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")  # before anything imports matplotlib.pyplot
os.environ.setdefault("MINITRANSFORMER_PROGRESS", "0")

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test opened, so figures never pile up across tests."""
    yield
    plt.close("all")

"""A small simulated history shared by the recommender tests (seconds, not minutes)."""

from __future__ import annotations

import pytest

from recsys.catalog import load_bank
from recsys.catalog.bank import QuestionBank
from recsys.simulate.history import SimulatedHistory, simulate_history


@pytest.fixture(scope="session")
def bank() -> QuestionBank:
    return load_bank()


@pytest.fixture(scope="session")
def small_history(bank: QuestionBank) -> SimulatedHistory:
    return simulate_history(n_families=150, days=35, seed=3, bank=bank)

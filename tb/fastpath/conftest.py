"""Fixtures of the fast-path tests: the run's seed and the full-run switch."""
from __future__ import annotations

import os
import random

import pytest


@pytest.fixture
def run_seed(request) -> int:
    """COCOTB_RANDOM_SEED when set (the suite's one seed knob), else a fresh one; always logged."""
    env = os.environ.get("COCOTB_RANDOM_SEED")
    seed = int(env) if env else random.SystemRandom().randrange(1 << 31)
    print(f"{request.node.nodeid}: random seed {seed} (rerun with COCOTB_RANDOM_SEED={seed})")
    return seed


def full() -> bool:
    """`make sim` (NUM_SAMPLES >= 10,000) runs the long tests; `make test` skips them."""
    return int(os.environ.get("NUM_SAMPLES", "10000")) >= 10000


@pytest.fixture
def full_run():
    if not full():
        pytest.skip("make sim only (NUM_SAMPLES >= 10000)")

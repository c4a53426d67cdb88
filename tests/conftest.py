import os
from pathlib import Path

import numpy as np
import pytest

import wengert as wg

try:
    import torch
except ImportError:  # the oracle tests skip without it; CI installs it
    torch = None

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_dir():
    """The shared real datasets: $WENGERT_DATA, else ../shared/data beside the repo.
    Tests that need them skip only when the folder is absent."""
    root = Path(os.environ.get("WENGERT_DATA", REPO.parent / "shared" / "data"))
    if not root.is_dir():
        pytest.skip(f"shared data folder {root} is absent (set WENGERT_DATA)")
    return root


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seed():
    wg.manual_seed(0)
    yield


@pytest.fixture
def torch_mod():
    if torch is None:
        pytest.skip("torch is not installed (pip install torch==2.13.0)")
    # float64 as wengert's NumPy arrays; restored after, so no other test depends on the order
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(default)


# Hypothesis profiles: the default run stays fast; `--hypothesis-profile=long` goes deeper.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile("default", max_examples=60, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.register_profile("long", max_examples=2000, deadline=None,
                              suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("default")
except ImportError:
    pass

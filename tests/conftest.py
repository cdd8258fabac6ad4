import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from reference import Link  # noqa: E402

# A spread over the ranges the issue names: SNR 0-40 dB, N_T 2-256, eps 0.1-10.
SPREAD = [(snr, n, eps) for snr in (0.0, 13.0, 25.0, 40.0) for n in (2, 8, 64, 256)
          for eps in (0.1, 1.0, 10.0)]


@pytest.fixture
def paper_link():
    """The paper's text example: N_T = 8 at rho_dl*beta = 15 dB, eps = 1."""
    return Link(15.0, 8)

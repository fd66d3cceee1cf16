"""Test setup: the library comes from $VEDA_LIBRARY, else the repository's build/libveda.so
(see veda/_loader.py); the package is imported from the source tree."""
import os
import sys
from pathlib import Path

import pytest

PY_DIR = Path(__file__).resolve().parent.parent
REPO = PY_DIR.parent
sys.path.insert(0, str(PY_DIR))


@pytest.fixture
def rt():
    import veda

    r = veda.Runtime(workers=2)
    yield r
    r.close()


@pytest.fixture
def repo():
    return REPO

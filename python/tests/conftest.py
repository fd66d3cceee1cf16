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


# Where PoCL is installed (or VEDA_REQUIRE_OPENCL=1), a test that needs an OpenCL device fails
# without one (unless VEDA_DISABLE_GPU=1); elsewhere it skips.
POCL = os.path.exists("/etc/OpenCL/vendors/pocl.icd") or os.environ.get("VEDA_REQUIRE_OPENCL") == "1"
GPU_OFF = os.environ.get("VEDA_DISABLE_GPU") == "1"


@pytest.fixture
def ocl(rt):
    """The index of rt's first OpenCL device (PoCL in CI)."""
    for d in rt.devices():
        if d["kind"] == "opencl":
            return d["index"]
    if POCL and not GPU_OFF:
        pytest.fail("PoCL is installed but the runtime found no OpenCL device")
    pytest.skip("no OpenCL device")

"""pip install ./python into a fresh virtual environment builds and bundles libveda.so."""
import os
import shutil
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_pip_install_fresh_venv(tmp_path, repo):
    if not shutil.which("go"):
        pytest.skip("go is not on PATH")
    venv = tmp_path / "venv"
    # System site packages give numpy and setuptools without a download; the package itself and
    # its library come only from the build.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VEDA_LIBRARY", "PYTHONPATH")}
    # Offline when the system has setuptools' wheel support; else pip fetches the build backend.
    try:
        import setuptools  # noqa: F401
        import wheel  # noqa: F401
        isolation = ["--no-build-isolation"]
    except ImportError:
        isolation = []
    subprocess.run([str(py), "-m", "pip", "install", "-q", *isolation, "--no-deps",
                    "--disable-pip-version-check", str(repo / "python")],
                   check=True, env=env, cwd=tmp_path, timeout=300)
    code = ("import veda, veda._loader as L, numpy as np; "
            "rt = veda.Runtime(workers=1); assert rt.sum(np.ones(7)) == 7.0; rt.close(); "
            "print(veda.version(), L.library_path())")
    out = subprocess.run([str(py), "-c", code], check=True, env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=60).stdout
    assert str(venv) in out and "_lib/libveda.so" in out, out

"""Build hook: compile libveda.so with the Go toolchain and bundle it in the package.

``pip install ./python`` runs ``build_py`` below, which runs, from the repository root,

    go build -buildmode=c-shared -ldflags=-extldflags=-Wl,-soname,libveda.so.0 \
        -o <build_lib>/veda/_lib/libveda.so ./capi/libveda

Environment:
  VEDA_SOURCE_DIR       repository root (default: the parent of this directory)
  VEDA_PREBUILT_LIBRARY bundle this libveda.so instead of building one
  GO                    the go command (default: go on PATH)
The wheel is platform-specific (it carries a shared library), not "pure".
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = Path(__file__).resolve().parent


def _repo_root() -> Path:
    root = Path(os.environ.get("VEDA_SOURCE_DIR", HERE.parent)).resolve()
    if not (root / "go.mod").is_file() or not (root / "capi").is_dir():
        raise SystemExit(f"veda: {root} is not the VEDA repository (no go.mod and capi/); "
                         "set VEDA_SOURCE_DIR or VEDA_PREBUILT_LIBRARY")
    return root


class BuildPyWithLibrary(build_py):
    """build_py that also puts libveda.so into veda/_lib/."""

    def run(self):
        super().run()
        dest = (Path(self.build_lib) / "veda" / "_lib" / "libveda.so").resolve()
        dest.parent.mkdir(parents=True, exist_ok=True)
        prebuilt = os.environ.get("VEDA_PREBUILT_LIBRARY")
        if prebuilt:
            shutil.copy2(prebuilt, dest)
            return
        go = os.environ.get("GO") or shutil.which("go")
        if not go:
            raise SystemExit("veda: the Go toolchain (go) is needed to build libveda.so; "
                             "install Go >= 1.22 or set VEDA_PREBUILT_LIBRARY")
        root = _repo_root()
        env = dict(os.environ, CGO_ENABLED="1")
        cmd = [go, "build", "-buildmode=c-shared",
               "-ldflags=-extldflags=-Wl,-soname,libveda.so.0", "-o", str(dest), "./capi/libveda"]
        print("veda: " + " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, cwd=root, env=env, check=True)
        header = dest.with_suffix(".h")  # cgo's internal header: not part of the package
        if header.exists():
            header.unlink()


class BinaryDistribution(Distribution):
    """Mark the wheel as platform-specific."""

    def has_ext_modules(self):
        return True


try:  # setuptools >= 70 has its own; older ones use the wheel package's
    from setuptools.command.bdist_wheel import bdist_wheel as _bdist_wheel
except ImportError:  # pragma: no cover - depends on the build environment
    from wheel.bdist_wheel import bdist_wheel as _bdist_wheel


class BdistWheelAnyPython(_bdist_wheel):
    """Tag the wheel py3-none-<platform>: it carries a shared library for one platform, but no
    Python extension module (libveda.so is loaded with ctypes), so any Python 3 may use it.
    The platform tag is the build machine's (linux_x86_64); `auditwheel repair` turns it into
    the manylinux tag that the library's glibc symbol versions allow (see `make wheel`)."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": BdistWheelAnyPython},
      distclass=BinaryDistribution)

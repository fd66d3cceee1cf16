import re
import subprocess
import sys

import pytest

import veda
from veda import _capi


def test_version_format():
    v = veda.version()
    assert re.fullmatch(r"\d+\.\d+\.\d+", v), v


def test_version_matches_header(repo):
    h = repo / "include" / "veda.h"
    if not h.exists():
        pytest.skip("include/veda.h not present")
    m = re.search(r'#define\s+VEDA_VERSION_STRING\s+"([^"]+)"', h.read_text())
    assert m and m.group(1) == veda.version()


def test_package_version_matches_header(repo):
    # veda.h's VEDA_VERSION_* are the one source; __version__ (and so the wheel's version, read
    # from it by pyproject.toml) must equal them.
    h = repo / "include" / "veda.h"
    if not h.exists():
        pytest.skip("include/veda.h not present")
    parts = [re.search(r"#define\s+VEDA_VERSION_%s\s+(\d+)" % p, h.read_text()).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    assert veda.__version__ == ".".join(parts)


def test_status_enum_matches_header(repo):
    h = repo / "include" / "veda.h"
    if not h.exists():
        pytest.skip("include/veda.h not present")
    text = h.read_text()
    block = text[text.index("#define VEDA_STATUS_MAP(X)"):]
    block = block[: block.index("\n\n")]
    pairs = re.findall(r"X\((?:ERR_)?(\w+),\s*(\d+),", block)
    assert pairs, "no X(...) entries found"
    header = {name: int(v) for name, v in pairs}
    assert header == {s.name: s.value for s in veda.Status}


def test_status_strings_distinct():
    texts = {_capi.status_string(s) for s in veda.Status}
    assert len(texts) == len(veda.Status)


def test_policies_match_header(repo):
    h = repo / "include" / "veda.h"
    if not h.exists():
        pytest.skip("include/veda.h not present")
    found = dict((n.lower().replace("_", "-"), int(v)) for n, v in
                 re.findall(r"VEDA_POLICY_(\w+)\s*=\s*(\d+)", h.read_text()))
    assert found == _capi.POLICIES


def test_strategies_match_header(repo):
    # veda.h documents the names veda_config.strategy takes; goveda's list is checked against the
    # same text (goveda/internal/dispatch/names_test.go).
    h = repo / "include" / "veda.h"
    if not h.exists():
        pytest.skip("include/veda.h not present")
    m = re.search(r"const char \*strategy;.*?or one of(.*?);", h.read_text(), re.S)
    assert m, "veda_config.strategy's comment not found"
    assert tuple(re.findall(r'"([a-z-]+)"', m.group(1))) == _capi.STRATEGIES


def test_veda_error():
    e = veda.VedaError(veda.Status.CLOSED, "veda: x")
    assert e.status is veda.Status.CLOSED and str(e) == "veda: x"
    assert isinstance(e, Exception)
    assert veda.VedaError(3).status == veda.Status.CLOSED


def test_loader_error_lists_paths(tmp_path):
    bogus = tmp_path / "nope" / "libveda.so"
    code = "import veda"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={"VEDA_LIBRARY": str(bogus), "PATH": "/usr/bin:/bin",
                            "PYTHONPATH": str(repo_py())})
    assert p.returncode != 0
    assert "could not load libveda.so" in p.stderr and str(bogus) in p.stderr


def test_loader_bad_file(tmp_path):
    bad = tmp_path / "libveda.so"
    bad.write_text("not an ELF file")
    p = subprocess.run([sys.executable, "-c", "import veda"], capture_output=True, text=True,
                       env={"VEDA_LIBRARY": str(bad), "PATH": "/usr/bin:/bin",
                            "PYTHONPATH": str(repo_py())})
    assert p.returncode != 0 and str(bad) in p.stderr and "LibraryNotFoundError" in p.stderr


def repo_py():
    from pathlib import Path
    return Path(__file__).resolve().parent.parent

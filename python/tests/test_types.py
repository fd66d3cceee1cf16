"""Static types: `mypy --strict -p veda` passes, py.typed is shipped, and user code gets precise
types (Future[T] from submit, TypedDicts for devices, metrics and decisions)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy")

PY_DIR = Path(__file__).resolve().parent.parent


def _mypy(*args, cwd=PY_DIR):
    env = dict(os.environ, MYPYPATH=str(PY_DIR))
    p = subprocess.run([sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir=/dev/null",
                        *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)
    return p.returncode, p.stdout + p.stderr


def test_py_typed_shipped():
    assert (PY_DIR / "veda" / "py.typed").is_file()
    assert "py.typed" in (PY_DIR / "pyproject.toml").read_text()


@pytest.mark.slow
def test_mypy_strict_package():
    rc, out = _mypy("--strict", "-p", "veda")
    assert rc == 0, out


USER_CODE = '''
import numpy as np
import veda

def work(n: int, scale: float = 1.0) -> float:
    return n * scale

with veda.Runtime(workers=1) as rt:
    f = rt.submit(work, 3, scale=2.0)
    reveal_type(f)
    x: float = f.result()
    g = rt.submit_with(work, 3, priority="high")
    reveal_type(g)
    h = rt.options(deadline=1.0).submit(work, 2)
    reveal_type(h)
    for d in rt.devices():
        reveal_type(d["kind"])
        reveal_type(d["stats"]["busy_ns"])
    m = rt.metrics()
    reveal_type(m["tasks_executed"])
    reveal_type(rt.decisions())
    it = rt.map(work, [1, 2])
    reveal_type(it)
    total = rt.map_reduce(lambda v: v * 2, [1, 2], lambda a, b: a + b)
    with rt.group() as grp:
        c = grp.spawn(work, 1)
        reveal_type(c)
'''

BAD_CODE = '''
import veda

def work(n: int) -> int:
    return n

with veda.Runtime() as rt:
    s: str = rt.submit(work, 1).result()     # int is not str
    rt.submit(work, "one")                   # wrong argument type for fn
    rt.devices()[0]["no_such_key"]
'''


def test_user_code_types(tmp_path):
    (tmp_path / "user.py").write_text(USER_CODE)
    rc, out = _mypy("--strict", str(tmp_path / "user.py"))
    assert rc == 0, out
    revealed = [line.split("Revealed type is ")[1].strip('"').replace("builtins.", "")
                .replace("typing.", "") for line in out.splitlines() if "Revealed type" in line]
    revealed[6] = revealed[6].split(",")[0]  # list[TypedDict(veda._types.Decision, {...})]
    assert revealed == [
        "veda._future.Future[float]", "veda._future.Future[float]", "veda._future.Future[float]",
        "str", "int", "int", "list[TypedDict(veda._types.Decision", "Iterator[float]",
        "veda._future.Future[float]"], out


def test_user_type_errors_found(tmp_path):
    (tmp_path / "bad.py").write_text(BAD_CODE)
    rc, out = _mypy("--strict", str(tmp_path / "bad.py"))
    assert rc != 0
    assert out.count("error:") >= 3, out
    assert "no_such_key" in out

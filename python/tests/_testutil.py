"""Helpers shared by the pipeline and graph tests (imported as a plain module: pytest puts this
directory on sys.path)."""
import json
import os
import re
import subprocess
import sys


def newest_pipeline(rt):
    """The metrics entry of the pipeline (or graph) created last on rt."""
    ps = [p for p in rt.metrics().get("pipelines", []) if re.fullmatch(r"pipeline-\d+", p["name"])]
    return max(ps, key=lambda p: int(p["name"].rsplit("-", 1)[1]))


class Item:
    """A stream item that counts the live instances: a run that passes or drops every item exactly
    once leaves Item.alive as it found it."""
    alive = 0

    def __init__(self, i):
        self.i = i
        Item.alive += 1

    def __del__(self):
        Item.alive -= 1


def run_child(repo, code):
    """Run code in a child Python with the source tree's package (a deadlock or a signal then
    fails one test instead of the suite); it must print a JSON object as its last line, which is
    returned."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo / "python") + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


# The start of a child script that interrupts itself: a 2-worker runtime, an endless source and a
# slow stage. CTRL_C_ARM then sends SIGINT after 0.3 s and keeps the send time in box["t"].
CTRL_C_PRELUDE = r'''
import os, signal, sys, threading, time, json
from itertools import count as endless
import veda
rt = veda.Runtime(workers=2)
def slow(x):
    time.sleep(0.002)
    return x
'''
CTRL_C_ARM = r'''
box = {}
def fire():
    box["t"] = time.perf_counter()
    os.kill(os.getpid(), signal.SIGINT)
threading.Timer(0.3, fire).start()
'''

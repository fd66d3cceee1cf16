"""table.py: one table from the RESULT lines of every bench/peers process, with paired ratios.

usage: python3 table.py RESULTS_FILE [THREADS]
Each line "ROUND k" starts round k; then "RESULT <workload> <impl> <seconds> <checksum>" lines.
A process that ran a workload several times (REPS > 1) prints one line per timed run; the round
keeps their median, so one slow run inside a process does not decide the round.
Within a round every peer ran once, one process per peer, one after the other, so a ratio taken
inside a round compares runs made under the same machine load: the table gives the median over
rounds of those paired ratios next to each implementation's median time."""
import collections
import statistics
import sys

rounds = collections.defaultdict(dict)  # round -> (workload, impl) -> seconds (median of its reps)
reps = collections.defaultdict(lambda: collections.defaultdict(list))  # round -> key -> every rep
checks = collections.defaultdict(set)   # workload -> checksums (must agree up to fp noise)
rnd = 0
for line in open(sys.argv[1]):
    parts = line.split()
    if not parts:
        continue
    if parts[0] == "ROUND":
        rnd = int(parts[1])
    elif parts[0] == "RESULT" and len(parts) >= 5:
        w, impl, sec, chk = parts[1], parts[2], float(parts[3]), parts[4]
        reps[rnd][(w, impl)].append(sec)
        if w not in ("one_chunk_latency", "idle_pool_cpu"):
            checks[w].add(float(chk))

for r, byk in reps.items():
    for k, v in byk.items():
        rounds[r][k] = statistics.median(v)

series = collections.defaultdict(list)
for r in sorted(rounds):
    for k, v in rounds[r].items():
        series[k].append(v)


def med(k):
    return statistics.median(series[k]) if series.get(k) else None


def paired(a, b):
    """Median over rounds of a/b, using only rounds where both ran."""
    rs = [rounds[r][a] / rounds[r][b] for r in rounds if a in rounds[r] and b in rounds[r] and rounds[r][b] > 0]
    return statistics.median(rs) if rs else None


def fmt_t(w, v):
    if v is None:
        return "-"
    if w == "idle_pool_cpu":
        return f"{100 * v:.2f}% core"
    if v < 1e-3:
        return f"{v * 1e6:.1f} us"
    if v < 1:
        return f"{v * 1e3:.2f} ms"
    return f"{v:.3f} s"


order = ["fib32", "nqueens13", "sum_sqrt_2e8", "triangular", "one_chunk_latency", "sort_1e7_int64", "idle_pool_cpu"]
ref = {"fib32": "veda_join", "nqueens13": "veda", "sum_sqrt_2e8": "veda", "triangular": "veda",
       "one_chunk_latency": "veda", "sort_1e7_int64": "veda_sort", "idle_pool_cpu": "veda"}
n_rounds = len(rounds)
print(f"bench/peers: {n_rounds} rounds, one process per peer per round; medians over rounds; "
      f"'x ref' = median over rounds of (this / {'{ref}'}) measured in the same round (paired)")
print(f"{'workload':<20} {'implementation':<26} {'median':>12} {'min':>12} {'max':>12} {'x ref':>8}")
for w in order:
    impls = sorted({i for (ww, i) in series if ww == w}, key=lambda i: (i != ref[w], i))
    for i in impls:
        v = series[(w, i)]
        pr = paired((w, i), (w, ref[w])) if i != ref[w] else 1.0
        print(f"{w:<20} {i:<26} {fmt_t(w, med((w, i))):>12} {fmt_t(w, min(v)):>12} {fmt_t(w, max(v)):>12} "
              f"{'' if pr is None else f'{pr:.2f}':>8}")
for w, cs in checks.items():
    if cs and (max(cs) - min(cs)) > 1e-9 * max(abs(c) for c in cs):
        print(f"!! {w}: implementations disagree on the result: {sorted(cs)}")

# fib(32) at cut-off 10 makes FIB_TASKS joins. Its leaves are most of the work, and gcc -O3 turns
# fib_seq into far faster code than Go's compiler does (measured: seq_c_1thread against
# seq_go_1thread), so the wall-time ratios mix two compilers with two runtimes. This part
# subtracts each language's own sequential time: the runtime's cost per task (a target row and the
# list printed last).
FIB_TASKS = 75024
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
seq_of = {"veda_join": "seq_c_1thread", "veda_group": "seq_c_1thread", "openmp": "seq_c_1thread",
          "onetbb": "seq_c_1thread", "go_join": "seq_go_1thread", "go_joinwith": "seq_go_1thread",
          "go_join_pgo": "seq_go_1thread_pgo", "go_joinwith_pgo": "seq_go_1thread_pgo"}
rows = []
for impl, seq in seq_of.items():
    per = [(rounds[r][("fib32", impl)] * threads - rounds[r][("fib32", seq)]) / FIB_TASKS
           for r in rounds if ("fib32", impl) in rounds[r] and ("fib32", seq) in rounds[r]]
    if per:
        rows.append((impl, statistics.median(per), seq))
print()
print("targets of issue 11 (paired ratios: median over rounds of veda/peer in the same round)")
T = []


def target(name, value, ok, show):
    T.append((name, show, "met" if ok else "MISSED") if value is not None else (name, "not measured", "-"))


def ratio_target(name, a, b, limit):
    r = paired(a, b)
    target(name, r, r is not None and r <= limit, f"{r:.2f}x (limit {limit}x)" if r is not None else "")


ratio_target("fib via veda_join <= 0.8x OpenMP", ("fib32", "veda_join"), ("fib32", "openmp"), 0.8)
ratio_target("fib via veda_join <= 3x oneTBB", ("fib32", "veda_join"), ("fib32", "onetbb"), 3.0)
ratio_target("Go Join <= 1.3x oneTBB (PGO build)", ("fib32", "go_join_pgo"), ("fib32", "onetbb"), 1.3)
ratio_target("Go Join <= 1.3x oneTBB (plain build)", ("fib32", "go_join"), ("fib32", "onetbb"), 1.3)
per_task = {impl: per for impl, per, _ in rows}
pt = per_task["go_join"] / per_task["onetbb"] if "go_join" in per_task and "onetbb" in per_task else None
target("Go Join <= 1.3x oneTBB (cost per task)", pt, pt is not None and pt <= 1.3,
       f"{pt:.2f}x (limit 1.3x)" if pt is not None else "")
ratio_target("nqueens 13 <= 1.0x OpenMP", ("nqueens13", "veda"), ("nqueens13", "openmp"), 1.0)
ratio_target("nqueens 13 <= 1.05x oneTBB", ("nqueens13", "veda"), ("nqueens13", "onetbb"), 1.05)
ratio_target("sum of sqrt <= 1.02x OpenMP", ("sum_sqrt_2e8", "veda"), ("sum_sqrt_2e8", "openmp"), 1.02)
ratio_target("triangular <= 1.0x OpenMP dynamic", ("triangular", "veda"), ("triangular", "openmp"), 1.0)
lat = med(("one_chunk_latency", "veda"))
target("one-chunk call median <= 10 us", lat, lat is not None and lat <= 10e-6, fmt_t("x", lat))
ratio_target("one-chunk call <= 1.5x oneTBB (idle arena)", ("one_chunk_latency", "veda"), ("one_chunk_latency", "onetbb"), 1.5)
lc = med(("one_chunk_latency", "veda_ctypes"))
fl = med(("one_chunk_latency", "bare_ctypes_noop"))
target("one-chunk call through ctypes <= 20 us", lc, lc is not None and lc <= 20e-6,
       fmt_t("x", lc) + (f" (bare ctypes call: {fmt_t('x', fl)})" if fl else ""))
sp = paired(("sort_1e7_int64", "slices_sort"), ("sort_1e7_int64", "veda_sort"))
target("parallel sort >= 1.7x slices.Sort", sp, sp is not None and sp >= 1.7, f"{sp:.2f}x" if sp else "")
idle = med(("idle_pool_cpu", "veda"))
target("idle pool <= 1% of a core", idle, idle is not None and idle <= 0.01, fmt_t("idle_pool_cpu", idle))

for name, show, verdict in T:
    print(f"  {name:<44} {show:<34} {verdict}")

if rows:
    print()
    print(f"fib32: cost per task = (wall x {threads} threads - the same fib(32) on one thread) / {FIB_TASKS}, "
          "median over rounds")
    for impl, per, seq in rows:
        print(f"  {impl:<20} {per * 1e9:8.0f} ns per task   (sequential reference: {seq})")

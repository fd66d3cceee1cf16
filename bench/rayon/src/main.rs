//! The bench/peers workloads with Rayon, one process (same kernels and sizes as
//! bench/peers/workloads.h). usage: veda-rayon-peer THREADS REPS
use rayon::prelude::*;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

const FIB_N: u32 = 32;
const FIB_CUTOFF: u32 = 10;
const NQ_N: u32 = 13;
const SQRT_N: i64 = 200_000_000;
const TRI_N: i64 = 20_000;
const LAT_CALLS: usize = 200;
const LAT_IDLE: Duration = Duration::from_micros(2000);
const SORT_N: usize = 10_000_000;

fn fib_seq(n: u32) -> i64 {
    if n < 2 { n as i64 } else { fib_seq(n - 1) + fib_seq(n - 2) }
}

fn fib_join(n: u32) -> i64 {
    if n < FIB_CUTOFF {
        return fib_seq(n);
    }
    let (x, y) = rayon::join(|| fib_join(n - 1), || fib_join(n - 2));
    x + y
}

fn nq_solve(n: u32, cols: u32, d1: u32, d2: u32) -> i64 {
    let all = (1u32 << n) - 1;
    if cols == all {
        return 1;
    }
    let mut c = 0;
    let mut avail = all & !(cols | d1 | d2);
    while avail != 0 {
        let bit = avail & avail.wrapping_neg();
        avail ^= bit;
        c += nq_solve(n, cols | bit, ((d1 | bit) << 1) & all, (d2 | bit) >> 1);
    }
    c
}

fn nq_task(n: u32, t: u32) -> i64 {
    let all = (1u32 << n) - 1;
    let (b0, b1) = (1u32 << (t / n), 1u32 << (t % n));
    let (cols, d1, d2) = (b0, (b0 << 1) & all, b0 >> 1);
    if b1 & (cols | d1 | d2) != 0 {
        return 0;
    }
    nq_solve(n, cols | b1, ((d1 | b1) << 1) & all, (d2 | b1) >> 1)
}

fn tri_row(i: i64) -> f64 {
    let mut acc = 0.0;
    for j in 0..i {
        acc += ((i + j) as f64).sqrt();
    }
    acc
}

fn result(w: &str, imp: &str, secs: f64, check: f64) {
    println!("RESULT {} {} {:.9} {}", w, imp, secs, check);
}

fn median(v: &mut Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 { v[n / 2] } else { 0.5 * (v[n / 2 - 1] + v[n / 2]) }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2);
    let reps: i32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().unwrap();
    // Sort input: the same xorshift sequence every round.
    let mut src = vec![0i64; SORT_N];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for v in src.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *v = x as i64;
    }
    for r in -1..reps {
        let t0 = Instant::now();
        let f = fib_join(FIB_N);
        let t = t0.elapsed().as_secs_f64();
        if r >= 0 { result("fib32", "rayon", t, f as f64); }

        let t0 = Instant::now();
        let nq: i64 = (0..NQ_N * NQ_N).into_par_iter().with_max_len(1).map(|t| nq_task(NQ_N, t)).sum();
        let t = t0.elapsed().as_secs_f64();
        if r >= 0 { result("nqueens13", "rayon", t, nq as f64); }

        let t0 = Instant::now();
        let s: f64 = (0..SQRT_N).into_par_iter().map(|i| (i as f64).sqrt()).sum();
        let t = t0.elapsed().as_secs_f64();
        if r >= 0 { result("sum_sqrt_2e8", "rayon", t, s); }

        let mut out = vec![0.0f64; TRI_N as usize];
        let t0 = Instant::now();
        out.par_iter_mut().enumerate().for_each(|(i, o)| *o = tri_row(i as i64));
        let t = t0.elapsed().as_secs_f64();
        if r >= 0 { result("triangular", "rayon", t, out.iter().sum()); }

        let sink = AtomicI64::new(0);
        let mut lat = Vec::with_capacity(LAT_CALLS);
        for _ in 0..LAT_CALLS {
            std::thread::sleep(LAT_IDLE);
            let u0 = Instant::now();
            (0..1i64).into_par_iter().for_each(|k| { sink.fetch_add(k, Ordering::Relaxed); });
            lat.push(u0.elapsed().as_secs_f64());
        }
        if r >= 0 { result("one_chunk_latency", "rayon", median(&mut lat), 0.0); }

        let mut s = src.clone();
        let t0 = Instant::now();
        s.par_sort_unstable();
        let t = t0.elapsed().as_secs_f64();
        if r >= 0 { result("sort_1e7_int64", "rayon_par_sort_unstable", t, s[SORT_N / 2] as f64); }
    }
}

// Package dispatch decides where VEDA's kernel calls run (the CPU or a GPU),
// learns from their timings, and explains every decision. It is pure Go and
// knows devices only through an abstract view (index, kind, name, queue);
// the runtime (package goveda) owns the devices and drives a Dispatcher.
//
// # Glossary
//
//   - device: an index into the runtime's device list; device 0 is the CPU.
//   - request: one kernel call to place (kernel name, bytes, transfer bytes,
//     optional candidate subset, optional pin).
//   - decision: the chosen device, the reason, and each candidate's
//     estimate. A decision carries a reservation on its device.
//   - bucket: floor(log2(bytes)); the cost model keeps history per (kernel,
//     device, bucket).
//   - backlog: the estimated time until a device has drained the calls
//     already placed on it (StarPU's exp_end - now).
//   - trusted: a bucket with at least MinSamples (3) samples.
//
// # Protocol (the runtime's side)
//
//  1. dec, err := d.Choose(req): the strategy places the call; the chosen
//     device's queue depth, queued bytes and backlog grow by the estimate.
//  2. The runtime runs the call on dec.Device and measures Timing{H2D,
//     Compute, D2H, BytesIn, BytesOut}.
//  3. d.End(dec, timing, err): the reservation is released; on success the
//     timing feeds the cost model (compute throughput), the bandwidth model
//     (transfers of 64 KiB or more) and the device's EMA throughput; on error
//     the device enters a cooldown (16 decisions, doubling per consecutive
//     failure up to 64x) during which automatic placement skips it.
//  4. After an error (device failure, out of memory) the runtime calls
//     d.Fallback(req, dec.Device), which places the call on the CPU (or
//     another candidate) with reason "fallback after device error", then runs
//     it and Ends it as in 2-3. A call that never runs is given back with
//     d.Abandon(dec).
//
// # The cost model and EarliestFinish (the default strategy)
//
// Per (kernel, device, bucket) the model keeps the last 15 measured
// throughputs and uses their median. The median is the outlier defence: a
// single spike of any size cannot move a bucket holding three or more
// samples (StarPU's failure mode, where one slow timing sent every GEMM to
// one or two GPUs, cannot happen). A bucket without trusted samples is
// estimated from the two nearest trusted buckets of the same (kernel,
// device) as latency + size/throughput, or from one by scaling.
//
// EarliestFinish picks the minimum over candidates of backlog + transfer
// bytes / bandwidth + compute estimate. Until every candidate has an
// estimate for the kernel, the seed rule decides (size >= GPUThreshold, 8
// MiB by default, goes to a GPU, smaller to the CPU: "calibrating:
// threshold"), and every other call measures an unmeasured device
// ("exploration"). Once estimates exist, every 4th call of a bucket measures
// a candidate whose exact bucket is not yet trusted (unless its neighbours
// show it more than 2x slower), and every 64th call re-measures the
// candidate measured least recently in that bucket, so that a device that
// was slow once is measured again ("exploration"). When the winner is a GPU
// only because the CPU is backlogged, the reason is "spillover"; during
// calibration small work spills to an idle GPU when the CPU has SpillDepth
// (2) calls queued.
//
// Host-device bandwidth is set once by the runtime (DeviceInfo.Bandwidth or
// SetBandwidth, from a probe transfer) and then replaced by the median of
// real transfers.
//
// # Other strategies
//
// RoundRobin (strict order), LeastLoaded (fewest queued calls, then bytes),
// WeightedCapacity (smooth weighted round robin over static weights, by
// default each device's measured peak throughput) and AdaptiveThroughput
// (EMA throughput, alpha 0.1, divided by queue depth + 1). A user Strategy
// receives the same Candidate view with every estimate filled in.
//
// # Concurrency
//
// Every Dispatcher method may be called from any goroutine. Choose, End,
// Fallback, Abandon and Record serialize on one mutex; the work under it is
// O(devices) with no allocation (about 0.25 us per Choose+End, 0.4 us with
// decision recording on). Stats reads atomic mirrors of the counters without
// the lock. Strategies are called under the lock, one call at a time.
//
// # Rejected approaches
//
//   - A mean or EMA per bucket: one 100x spike moves it for many calls.
//   - Per-goroutine or lock-free model state: placement needs a consistent
//     view of every device's backlog, or concurrent callers all pick the same
//     idle device; the lock is held for well under a microsecond.
//   - Backlog as queued-call count: it ignores call sizes; the model's time
//     estimates are what let a 4x device take 4x the bytes.
//
// # Test doubles
//
// The test doubles (simulated devices on a virtual clock, the mixed workload
// generator) live in package dispatchtest, outside the production package.
// They serve this package's tests and the dispatch benchmark
// (cmd/dispatchbench, run by bench/run.sh) and are never used for real work.
package dispatch

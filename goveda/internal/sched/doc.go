// Package sched is VEDA's work-stealing core: the worker pool, its Chase-Lev deques, the
// injector for outside and prioritized work, parking, latches, failure groups, the adaptive
// monitor, goroutine identity (getg) and CPU pinning. Package goveda builds the public API
// (Join, Scope, ParallelFor, Reduce, Map, Submit, kernels, devices) on it.
//
// # Interface used by goveda
//
//   - New(Options) starts a Pool; Pool.Close drains and stops it (first call reports true).
//   - Admission: Pool.Enter/Exit bracket every unit of outside work (Close waits for them);
//     EnterNested admits work started by a task even after Close; RunRoot runs a function on a
//     worker for an outside caller and blocks.
//   - Jobs: a goveda job type embeds a Task and implements Runner. From a task, Worker.Push
//     publishes a job, Worker.JoinTask finishes a fork-join, Worker.WaitUntil waits on a Latch
//     while helping; Pool.Inject queues a job at a priority level (0..Levels-1) with a deadline.
//   - Failure is the first-error-wins stop flag of a group; Latch a one-shot done flag.
//   - Pool.Current tells a worker goroutine from an outside one; Pool.Stats snapshots the counters.
//
// # Glossary
//
//   - worker: one of Options.Workers goroutines that run task bodies. Only workers run task
//     bodies, so Workers is a hard cap on bodies running at once, even when bodies block in cgo
//     (Go then adds OS threads, but not workers).
//   - task: the unit in a queue (task.go): a runner plus a latch. Each job type (the right half
//     of a split, a Join's second function, a spawned child, a submitted future, a root call
//     from outside) embeds one, so a job is one allocation.
//   - deque: a worker's Chase-Lev deque (deque.go). The owner pushes and pops at the bottom;
//     thieves steal from the top.
//   - injector: the MPMC priority queue for work from outside the pool and for prioritized
//     tasks (injector.go): one earliest-deadline-first heap per priority level, with aging.
//   - latch: a one-shot "done" flag a worker can wait on while helping (latch.go).
//   - helping: a worker that waits (Join, Scope, nested ParallelFor, Future.Wait) runs other
//     tasks meanwhile instead of blocking, so nesting cannot deadlock.
//   - parking: an idle worker spins briefly, then blocks on its wake channel (park.go,
//     PARKING.md). A parked pool uses no CPU.
//   - searching: a worker spinning in its idle loop looking for work.
//   - shared work: a task that other workers may join while its owner runs it (share.go): a
//     loop leaf whose pieces the owner and joiners claim from one counter. A worker that finds
//     no task to run or steal joins one; the owner wakes a parked worker between pieces
//     (Invite) while at least two pieces are left.
//   - in flight: a unit admitted by Enter/EnterHeld (an outside call, a kernel or device call,
//     a submitted task) that has not finished; Close waits for the in-flight count to reach
//     zero. The admission rule is in admission.go.
//   - active workers: the adaptive policy's limit; workers at or above it suspend when idle.
//
// # Who runs what
//
// Every public function may be called from any goroutine. The runtime tells a worker from an
// outside goroutine by the goroutine's identity (getg, an assembly read of the g pointer,
// compared with each worker's registered key). Called from a worker, ParallelFor, Reduce, Join
// and Scope run on that worker and help while waiting. Called from outside, they inject one root
// task and the caller blocks (Scope runs its function on the caller, and its children on
// workers). The caller runs a chunk itself only through RunInline (inline.go): a one-chunk call
// takes a free execution slot (one a parked worker gave back), so Workers stays a strict cap on
// bodies executing at once, and the call needs no wake-up.
//
// # Protocols
//
// Fork-join (Join, and each split of ParallelFor/Reduce), on worker w:
//  1. Push job B (the second half) at the bottom of w's deque; wake a sleeper if one sleeps and
//     nobody searches (Pool.notify).
//  2. Run A inline, recovering a panic into *PanicError.
//  3. Pop the bottom of w's deque. If it is B, nobody stole it: run it inline and recycle the job.
//  4. Otherwise B was stolen: wait on B's latch while helping: pop own deque, else steal (random
//     victim, batch of up to half), else take injected work; after a spin budget, park with the
//     latch registered, so the thief's latch.set wakes w.
//
// Lazy splitting (ParallelFor, Reduce; Rayon's adaptive splitter): a range starts with a split
// budget of Workers. Each cut halves the budget; a job that was stolen (runs on another worker
// than the one that pushed it) refills it to Workers, because a steal proves there is an idle
// thief. A range is never cut below 2*grain. So a loop on a busy pool runs in about 2*Workers
// chunks, and an unbalanced loop keeps being cut where thieves take work. Under
// PolicyDeterministic the budget is ignored: every range of at least 2*grain is cut in half,
// so the leaves and the left-to-right combine tree depend only on (range, grain), and float
// reductions are bit-identical across runs and worker counts. The automatic grain of that
// policy is range/1024 (at least 1), which depends on the range alone.
//
// Worker loop (worker.go):
//  1. Pop own deque (hot path, no atomic RMW).
//  2. If the injector holds Realtime/High work, take it; else steal; else take injected work.
//  3. Nothing: publish counters, become searching, retry for a spin budget (policy dependent);
//     each round that finds no task joins another worker's shared work if one is published.
//  4. Still nothing: stop searching, register as a sleeper, re-check every queue, and park on
//     the wake channel unless the re-check found work (PARKING.md has the ordering argument).
//  5. A searcher that finds work and was the last searcher wakes another sleeper if more work
//     is queued (hand-off), so a burst of work ramps the pool up one wake at a time.

// With workers on several NUMA nodes (Options.Nodes), step 2's steal is hierarchical: the
// workers of the thief's own node first (LocalRounds passes), the other nodes' only after that
// (numa.go). An external cap (SetCap: goveda's energy governor) bounds the adaptive monitor's
// active count (cap.go); every resize is reported with its reason through Options.OnResize.
//
// Errors and cancellation: a group (ParallelFor, Reduce, Scope) records its first error with a
// CAS and sets a stop flag; every chunk or child checks the flag before it starts, so no new
// chunk starts after an error. Context cancellation fails the group through context.AfterFunc
// (no polling). Panics are recovered where user code is called and become *PanicError.
//
// Priorities: the injector serves, among the heads of its five level heaps, the one with the
// smallest enqueue time + level*agingStep (5 ms). Within a level, tasks with a deadline come
// first, earliest deadline first, then FIFO. A task of level L is therefore served before any
// task that arrived more than L*agingStep after it: higher levels win a burst, and Background
// work is never starved by a stream of newer Realtime work.
//
// Close: set closed (new outside work gets ErrClosed; work started by tasks or by goroutines
// holding an admission is still admitted, since its parent is in flight), wait until the
// in-flight count is zero, set stopping, wake every worker; workers exit when stopping and no
// queue holds work. No admitted task is lost.
//
// Adaptive policy (adaptive.go): a monitor samples utilization every 10 ms; low utilization for
// 5 ticks lowers the active count by one, queued work or high utilization raises it and wakes
// the worker. Suspended workers hold no queued work, so progress never waits for the monitor
// beyond the ramp-up. Busy time counts the task in progress, so a worker inside one long task (a
// C callback that blocks) is busy. When no worker is busy and nothing is queued the monitor waits
// for a kick: an injection, or a push that no allowed sleeper can take (PARKING.md, Case E).
//
// Telemetry: per-worker counters are plain fields written by the owner and published to atomics
// when the worker goes idle and every 1024 tasks; busy/idle clocks are read only at idle/busy
// transitions; the latency histogram (hdrhistogram-go, per worker, merged by Metrics) records
// injected tasks only. The fork-join hot path therefore pays nothing for telemetry.
//
// # Rejected alternatives
//
//   - One goroutine per task: a goroutine costs about 1 us to create and schedule; the fib(32)
//     benchmark shows the pool is several times faster, and goroutines cannot cap concurrency.
//   - A mutex-protected deque per worker: simple, but every push/pop takes a lock; Chase-Lev's
//     owner operations need no RMW except on the last element.
//   - Passing a worker/context handle to every body (as Cilk or TBB task_group do explicitly):
//     it would change the public API; goroutine identity via getg keeps the API plain and costs
//     about 2 ns.
//   - Eager splitting into one task per grain: thousands of tasks for a loop that two workers
//     finish in two chunks; lazy splitting adapts to the actual number of thieves.
//   - sync.Cond or a global semaphore for parking: a broadcast wakes everyone (thundering
//     herd); per-worker channels let a push wake exactly one sleeper.
//   - Blocking (not helping) waits inside workers: deadlocks as soon as all workers wait on
//     nested work, which C callbacks that call back into veda would hit.
//   - Strict priority in the injector: starves Background work; aging bounds its wait.
//   - Atomic per-task counters for metrics: a LOCK XADD per task costs a measurable share of a
//     ~100 ns task; owner-only counters with periodic publication cost nothing.
package sched

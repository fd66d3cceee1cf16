package goveda

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
)

// Runtimes whose bodies are cgo calls (Config.CgoBodies).
//
// A goroutine inside a cgo call holds its P in a syscall state, and Go's sysmon thread retakes
// such a P in two cases:
//   - after 20 us in the call, when no P is idle (every P runs a worker that is in C), and
//   - after 10 ms without a scheduling tick, whatever else is idle (a worker that keeps finding
//     work never passes through the Go scheduler).
//
// Each retake hands the P to a fresh thread, and it resets sysmon's back-off: sysmon then wakes
// every 20 us for a millisecond. On the 2-core machine that made 12-14k context switches where
// OpenMP makes 170 for the same C bodies, and the workers spent 3-4 ms of every 22 ms nqueens run
// descheduled in the middle of a body (bench/peers/samecode). Three rules avoid both cases:
//
//  1. a spare P: New raises GOMAXPROCS to Workers+1 (reserveSpareP), so one P stays idle while
//     every worker is in C and the 20 us rule never applies. A C thread that calls into the
//     runtime then also finds a P at once instead of waiting for a retake;
//  2. workers reschedule (runtime.goyield, on their own P) every few milliseconds (sched's Options.Yield);
//  3. loop and reduce leaves run in pieces of about 200 us (leaf.go), so a rescheduling point
//     comes between two C calls well within 10 ms; pipeline tasks that carry many items have
//     one between items (Worker.Progress). A worker that runs out of work joins a loop leaf
//     that another worker runs and claims pieces of it (sched's Shared).
//
// A single C call longer than 10 ms is still retaken once; that costs a few percent of it at most.

// cgoHost makes every runtime created afterwards a CgoBodies one. Store by SetCgoHost (once, at
// library load); load by Config.normalize: a plain flag.
var cgoHost atomic.Bool

// SetCgoHost declares that this process's task bodies are cgo calls: every runtime created
// afterwards, the shared one included, behaves as with Config.CgoBodies. libveda.so calls it
// when it loads; a Go program whose bodies call C may call it before creating runtimes instead
// of setting the field on each Config. Any goroutine.
func SetCgoHost() { cgoHost.Store(true) }

var spareMu sync.Mutex // serializes reserveSpareP's read-modify-write of GOMAXPROCS

// reserveSpareP raises GOMAXPROCS to workers+1 when it is lower, unless the GOMAXPROCS
// environment variable is set (the user's choice wins). It never lowers it. Any goroutine.
func reserveSpareP(workers int) {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	spareMu.Lock()
	defer spareMu.Unlock()
	if runtime.GOMAXPROCS(0) < workers+1 {
		runtime.GOMAXPROCS(workers + 1)
	}
}

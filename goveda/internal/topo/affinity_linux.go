//go:build linux

package topo

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// AllowedCPUs returns the CPUs this process may run on (sched_getaffinity), ascending; on error
// 0..NumCPU-1.
func AllowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return seq(runtime.NumCPU())
	}
	var cpus []int
	for c := 0; c < len(set)*64 && len(cpus) < set.Count(); c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Memory policy modes (linux/mempolicy.h).
const (
	mpolDefault   = 0
	mpolPreferred = 1
)

// OnNode runs f on a locked OS thread whose memory policy prefers NUMA node id, so pages that f
// allocates and first touches (cuMemHostAlloc's pinned pages, a staging ring) come from that
// node; the thread's policy is reset afterwards. A node < 0, or a kernel that refuses the
// policy, runs f with the default policy: placement is an optimisation, never a failure. It
// reports whether the preference was set. Any goroutine.
func OnNode(id int, f func()) bool {
	if id < 0 || id >= 1024 {
		f()
		return false
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var mask [1024 / 64]uint64
	mask[id/64] |= 1 << (id % 64)
	_, _, errno := unix.Syscall(unix.SYS_SET_MEMPOLICY, mpolPreferred, uintptr(unsafe.Pointer(&mask[0])), 1024)
	set := errno == 0
	f()
	if set {
		unix.Syscall(unix.SYS_SET_MEMPOLICY, mpolDefault, 0, 0)
	}
	return set
}

//go:build !linux

package topo

import "runtime"

// AllowedCPUs returns 0..NumCPU-1 (no affinity API on this OS).
func AllowedCPUs() []int {
	s := make([]int, runtime.NumCPU())
	for i := range s {
		s[i] = i
	}
	return s
}

// OnNode runs f; memory policies are Linux-only. It reports false.
func OnNode(id int, f func()) bool { f(); return false }

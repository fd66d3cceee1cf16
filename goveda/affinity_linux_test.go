//go:build linux

package goveda

import "golang.org/x/sys/unix"

// threadAffinity returns the CPUs the calling OS thread may run on (sched_getaffinity(0)).
func threadAffinity() ([]int, error) { return affinityOf(0) }

// processCPUs returns the CPUs the process may use (sched_getaffinity of the main thread).
func processCPUs() ([]int, error) { return affinityOf(unix.Getpid()) }

func affinityOf(tid int) ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(tid, &set); err != nil {
		return nil, err
	}
	var cpus []int
	for c := 0; c < len(set)*64; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

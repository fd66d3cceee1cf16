//go:build race

package sched

import "sync/atomic"

// storeSlot is the atomic store under the race detector (see deque_slot.go for the plain store
// of other builds and why it is correct). Owner worker only.
func storeSlot(s *atomic.Pointer[Task], t *Task) { s.Store(t) }

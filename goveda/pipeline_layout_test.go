package goveda

import (
	"testing"
	"unsafe"
)

// TestPipelineAdmissionLine: the admission fields (prun.mu to prun.quietClosed) sit in one
// 64-byte line of a prun, and a prun is large enough (over 512 bytes) that Go's allocator puts it
// on a 64-byte boundary (its size classes above 512 are multiples of 64). A field added before
// them moves them: adjust the padding.
func TestPipelineAdmissionLine(t *testing.T) {
	var r prun[int]
	start := unsafe.Offsetof(r.mu)
	end := unsafe.Offsetof(r.quietClosed) + unsafe.Sizeof(r.quietClosed)
	if start%64 != 0 || end-start > 64 {
		t.Fatalf("admission fields at %d..%d: not within one 64-byte line", start, end)
	}
	if size := unsafe.Sizeof(r); size <= 512 {
		t.Fatalf("prun is %d bytes: its size class may not be 64-byte aligned", size)
	}
	// The same layout whatever T is (the fields before the padding do not depend on it).
	var b prun[[64]byte]
	if unsafe.Offsetof(b.mu) != start {
		t.Fatalf("prun[[64]byte].mu at %d, prun[int].mu at %d", unsafe.Offsetof(b.mu), start)
	}
}

package streamaead

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSegmentSize parses a ciphertext segment size: a byte count with an optional unit (B, KiB,
// MiB; K and M, KB and MB mean the same binary units), such as "1MiB", "4096" or "64KiB", and
// checks it is supported (MinSegmentSize..MaxSegmentSize). Errors wrap ErrSegmentSize.
func ParseSegmentSize(s string) (int, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 {
		return 0, fmt.Errorf("%w: %q is not a size (examples: 1MiB, 64KiB, 4096)", ErrSegmentSize, s)
	}
	if v > MaxSegmentSize/mult+1 {
		return 0, checkSegmentSize(MaxSegmentSize + 1)
	}
	n := int(v * mult)
	if err := checkSegmentSize(n); err != nil {
		return 0, err
	}
	return n, nil
}

package capi

import (
	"bytes"
	"strings"
	"testing"
)

// cstr returns b up to its NUL, failing if there is none.
func cstr(t *testing.T, b []byte) string {
	t.Helper()
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		t.Fatalf("no NUL in %q", b)
	}
	return string(b[:i])
}

func TestPutBytes(t *testing.T) {
	cases := []struct {
		name string
		s    string
		cap  int
		want string
	}{
		{"fits", "cpu", 8, "cpu"},
		{"exact", "1234567", 8, "1234567"},
		{"cut ascii", "AMD EPYC 7763", 8, "AMD EPY"},
		// One bad byte used to empty the whole name ("" instead of the name).
		{"bad byte kept", "AMD\xffEPYC 7763 64-Core", 8, "AMD\xffEPY"},
		{"bad byte at the cut", "ABCDEF\xff\xfeXYZ", 8, "ABCDEF\xff"},
		{"no split of a 3-byte char", "ab€cd", 5, "ab"},
		{"3-byte char ends at the limit", "ab€cd", 6, "ab€"},
		{"no split of a 4-byte char", "a😀b", 4, "a"},
		{"lone continuation bytes", "ab\x80\x80\x80\x80", 5, "ab\x80\x80"},
		{"one byte", "xyz", 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Repeat([]byte{0xAA}, c.cap)
			putBytes(b, c.s)
			if got := cstr(t, b); got != c.want {
				t.Fatalf("putBytes(%q, cap %d) = %q, want %q", c.s, c.cap, got, c.want)
			}
		})
	}
	putBytes(nil, "x") // no room: nothing written, no panic

	// Linear: a bad byte in the middle of a long name. The old loop dropped one byte at a time
	// and re-validated the whole prefix each time (2^16 x 2^16 byte checks, seconds) and then kept
	// only the 2^16 bytes before it; now one short pass keeps the name up to the buffer's end.
	long := strings.Repeat("a", 1<<16) + "\xff" + strings.Repeat("é", 1<<16)
	b := make([]byte, 1<<17)
	putBytes(b, long)
	got := cstr(t, b)
	if len(got) != len(b)-1 || !strings.HasPrefix(long, got) {
		t.Fatalf("long name: %d bytes kept of %d", len(got), len(long))
	}
}

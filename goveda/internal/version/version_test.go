package version

import (
	"os"
	"regexp"
	"testing"
)

// TestMatchesHeader: String is VEDA_VERSION_MAJOR.MINOR.PATCH and VEDA_VERSION_STRING of veda.h.
func TestMatchesHeader(t *testing.T) {
	h, err := os.ReadFile("../../../include/veda.h")
	if err != nil {
		t.Fatal(err)
	}
	part := func(name string) string {
		m := regexp.MustCompile(`(?m)^#define VEDA_VERSION_` + name + `\s+(\S+)`).FindSubmatch(h)
		if m == nil {
			t.Fatalf("VEDA_VERSION_%s not found in veda.h", name)
		}
		return string(m[1])
	}
	if want := part("MAJOR") + "." + part("MINOR") + "." + part("PATCH"); String != want {
		t.Fatalf("version.String = %q, veda.h VEDA_VERSION_* = %q", String, want)
	}
	if s := part("STRING"); s != `"`+String+`"` {
		t.Fatalf("veda.h VEDA_VERSION_STRING = %s, want %q", s, String)
	}
}

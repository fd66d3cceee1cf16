package dispatch

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestStrategyNamesMatchHeader: the strategy names veda.h documents for veda_config.strategy are
// StrategyNames, in order (python/tests checks the Python list against the same text), and each
// parses, also in the '_' spelling.
func TestStrategyNamesMatchHeader(t *testing.T) {
	h, err := os.ReadFile("../../../include/veda.h")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)const char \*strategy;.*?or one of(.*?);`).FindSubmatch(h)
	if m == nil {
		t.Fatal("veda_config.strategy's comment not found in veda.h")
	}
	var header []string
	for _, q := range regexp.MustCompile(`"([a-z-]+)"`).FindAllSubmatch(m[1], -1) {
		header = append(header, string(q[1]))
	}
	if !slices.Equal(header, StrategyNames) {
		t.Fatalf("veda.h lists %q, StrategyNames %q", header, StrategyNames)
	}
	for _, n := range StrategyNames {
		for _, spelling := range []string{n, regexp.MustCompile(`-`).ReplaceAllString(n, "_")} {
			s, err := ParseStrategy(spelling)
			if err != nil || s.Name() != n {
				t.Errorf("ParseStrategy(%q) = %v, %v; want %s", spelling, s, err, n)
			}
		}
	}
}

// TestDecisionsJSONEmpty: with nothing recorded the JSON is an empty array, never null.
func TestDecisionsJSONEmpty(t *testing.T) {
	d, err := NewDispatcher([]DeviceInfo{{Index: 0, Kind: KindCPU, Name: "cpu"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []bool{false, true} {
		d.SetRecording(rec)
		b, err := d.DecisionsJSON()
		if err != nil || string(b) != "[]" {
			t.Fatalf("recording %v, nothing recorded: %q, %v; want []", rec, b, err)
		}
	}
}

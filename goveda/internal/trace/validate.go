package trace

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// FileEvent is one event of a trace file as read back (the fields the validator, Summarize and
// Plot use).
type FileEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat"`
	Ph   string         `json:"ph"`
	Pid  *int64         `json:"pid"`
	Tid  *int64         `json:"tid"`
	TS   *float64       `json:"ts"`
	Dur  *float64       `json:"dur"`
	ID   *float64       `json:"id"`
	S    string         `json:"s"`
	Args map[string]any `json:"args"`
}

// File is a trace file as read back.
type File struct {
	TraceEvents []FileEvent    `json:"traceEvents"`
	OtherData   map[string]any `json:"otherData"`
}

// Read parses a trace file.
func Read(r io.Reader) (*File, error) {
	var f File
	dec := json.NewDecoder(r)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("veda: trace: not a trace-event JSON file: %v", err)
	}
	if f.TraceEvents == nil {
		return nil, fmt.Errorf("veda: trace: no traceEvents array")
	}
	return &f, nil
}

// ReadFile opens and parses the trace file at path. An error opening it is os.Open's (a
// *fs.PathError); a parse error names the path.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

const maxSafeInt = 1 << 53

// maxRelativeUS bounds a relative timestamp: 1e12 µs is 11.6 days. Absolute epoch times (about
// 1.7e15 µs) are rejected: as doubles they keep only a fraction of a microsecond.
const maxRelativeUS = 1e12

// Validate checks the trace-event grammar that Perfetto and chrome://tracing rely on: the
// required fields of each phase, timestamps relative to the start (0 to 1e12 µs),
// ids below 2^53, complete events that nest properly on each track, and flow ids that pair
// (one "s" and one "f" each, the end not before the start). It returns every problem found,
// up to 20.
func Validate(f *File) []error {
	var errs []error
	bad := func(i int, format string, args ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Errorf("event %d: "+format, append([]any{i}, args...)...))
		}
	}
	type span struct{ start, end float64 }
	tracks := map[[2]int64][]span{}
	type flow struct {
		s, f   int
		ts, tf float64
	}
	flows := map[[2]any]*flow{}
	for i, e := range f.TraceEvents {
		if e.Ph == "" {
			bad(i, "no ph")
			continue
		}
		if e.Ph != "M" && e.Name == "" {
			bad(i, "ph %q without a name", e.Ph)
		}
		if e.Pid == nil || e.Tid == nil {
			bad(i, "ph %q without pid/tid", e.Ph)
			continue
		}
		if e.Ph == "M" {
			if e.Args == nil {
				bad(i, "metadata without args")
			}
			continue
		}
		if e.TS == nil {
			bad(i, "ph %q without ts", e.Ph)
			continue
		}
		ts := *e.TS
		if ts < 0 || ts >= maxRelativeUS || math.IsNaN(ts) {
			bad(i, "ts %v is not a timestamp relative to the trace start (0 .. 1e12 µs)", ts)
		}
		switch e.Ph {
		case "X":
			if e.Dur == nil || *e.Dur < 0 {
				bad(i, "X without a non-negative dur")
				continue
			}
			k := [2]int64{*e.Pid, *e.Tid}
			tracks[k] = append(tracks[k], span{ts, ts + *e.Dur})
		case "i", "I":
			if e.S != "" && e.S != "t" && e.S != "p" && e.S != "g" {
				bad(i, "instant scope %q", e.S)
			}
		case "s", "f", "t":
			if e.ID == nil {
				bad(i, "flow event without id")
				continue
			}
			if *e.ID < 0 || *e.ID >= maxSafeInt || *e.ID != math.Trunc(*e.ID) {
				bad(i, "flow id %v is not an integer below 2^53", *e.ID)
			}
			if e.Cat == "" {
				bad(i, "flow event without cat")
			}
			k := [2]any{e.Cat, *e.ID}
			fl := flows[k]
			if fl == nil {
				fl = &flow{}
				flows[k] = fl
			}
			if e.Ph == "s" {
				fl.s++
				fl.ts = ts
			} else if e.Ph == "f" {
				fl.f++
				fl.tf = ts
			}
		case "C":
			if len(e.Args) == 0 {
				bad(i, "counter without args")
			}
			for k, v := range e.Args {
				if _, ok := v.(float64); !ok {
					bad(i, "counter arg %q is not a number", k)
				}
			}
		case "b", "e", "n", "B", "E":
		default:
			bad(i, "unknown ph %q", e.Ph)
		}
	}
	keys := slices.SortedFunc(mapKeys(tracks), func(a, b [2]int64) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	for _, k := range keys {
		sp := tracks[k]
		slices.SortStableFunc(sp, func(a, b span) int {
			if a.start != b.start {
				if a.start < b.start {
					return -1
				}
				return 1
			}
			if a.end > b.end {
				return -1
			} else if a.end < b.end {
				return 1
			}
			return 0
		})
		var stack []float64
		for _, s := range sp {
			for len(stack) > 0 && stack[len(stack)-1] <= s.start {
				stack = stack[:len(stack)-1]
			}
			if len(stack) > 0 && s.end > stack[len(stack)-1]+1e-9 {
				if len(errs) < 20 {
					errs = append(errs, fmt.Errorf("track pid %d tid %d: X event [%v, %v] overlaps its enclosing event without nesting (ends after %v)", k[0], k[1], s.start, s.end, stack[len(stack)-1]))
				}
				continue
			}
			stack = append(stack, s.end)
		}
	}
	for k, fl := range flows {
		if fl.s != 1 || fl.f != 1 {
			if len(errs) < 20 {
				errs = append(errs, fmt.Errorf("flow %v id %v: %d starts and %d ends (want 1 and 1)", k[0], k[1], fl.s, fl.f))
			}
		} else if fl.tf < fl.ts {
			if len(errs) < 20 {
				errs = append(errs, fmt.Errorf("flow %v id %v ends before it starts", k[0], k[1]))
			}
		}
	}
	return errs
}

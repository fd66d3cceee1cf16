package trace

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// TrackSummary is one lane's time split. Every nanosecond of the trace's span is attributed to
// the innermost event covering it: a run (task, chunk, stage) outside any wait is Busy, a run
// nested inside a wait is Helping, a wait's own time and uncovered time are Idle, a park is
// Parked. Busy + Helping + Idle + Parked = the trace's span.
type TrackSummary struct {
	Tid     int64
	Name    string
	Busy    float64 // µs
	Helping float64
	Idle    float64
	Parked  float64
	Steals  int // flow ends of steals on this track (tasks this worker stole)
	Events  int
}

// DeviceSummary is one device engine's lane.
type DeviceSummary struct {
	Tid       int64
	Name      string
	Busy      float64 // µs covered by its events
	Kernels   int
	Transfers int
	Bytes     float64 // bytes moved by its transfers
}

// TaskSpan is one run event, for the longest-task list.
type TaskSpan struct {
	Name  string
	Track string
	TS    float64
	Dur   float64
	Args  map[string]any
}

// Summary is what `veda trace summarize` prints.
type Summary struct {
	SpanUS  float64
	Events  int
	Dropped float64
	Workers []TrackSummary
	Devices []DeviceSummary
	Longest []TaskSpan // up to 10, longest first
}

func isRun(cat string) bool { return cat == "task" || cat == "chunk" || cat == "stage" }

// Summarize computes per-track and per-device figures of a trace file written by WriteJSON.
func Summarize(f *File) *Summary {
	names := map[int64]string{}
	type ev struct {
		cat        string
		name       string
		start, end float64
		args       map[string]any
	}
	byTrack := map[int64][]ev{}
	s := &Summary{}
	steals := map[int64]int{}
	minTS, maxTS := 0.0, 0.0
	first := true
	for _, e := range f.TraceEvents {
		if e.Tid == nil {
			continue
		}
		tid := *e.Tid
		if e.Ph == "M" {
			if e.Name == "thread_name" {
				if n, ok := e.Args["name"].(string); ok {
					names[tid] = n
				}
			}
			continue
		}
		if e.TS == nil {
			continue
		}
		s.Events++
		ts := *e.TS
		end := ts
		if e.Dur != nil {
			end = ts + *e.Dur
		}
		if first || ts < minTS {
			minTS = ts
		}
		if first || end > maxTS {
			maxTS = end
		}
		first = false
		cat := e.Cat
		if cat == "" {
			cat = e.Name
		}
		switch e.Ph {
		case "X":
			byTrack[tid] = append(byTrack[tid], ev{cat, e.Name, ts, end, e.Args})
		case "f":
			if cat == "steal" {
				steals[tid]++
			}
		}
	}
	s.SpanUS = maxTS - minTS
	if d, ok := f.OtherData["dropped_events"].(float64); ok {
		s.Dropped = d
	}
	var runs []TaskSpan
	for tid := range names { // workers with no event still get a row
		if _, ok := byTrack[tid]; !ok && tid >= trackWorkerBase && tid < trackOutside {
			byTrack[tid] = nil
		}
	}
	for _, tid := range slices.Sorted(mapKeys(byTrack)) {
		evs := byTrack[tid]
		slices.SortStableFunc(evs, func(a, b ev) int {
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
		name := names[tid]
		if name == "" {
			name = fmt.Sprintf("track %d", tid)
		}
		base := BaseTrack(tid)
		isDevice := base >= trackDeviceBase && base < trackPipelineBase
		if isDevice {
			d := DeviceSummary{Tid: tid, Name: name}
			cover := 0.0
			last := minTS
			for _, e := range evs {
				st := max(e.start, last)
				if e.end > st {
					cover += e.end - st
					last = e.end
				}
				switch e.cat {
				case "kernel":
					d.Kernels++
				case "h2d", "d2h":
					d.Transfers++
					if b, ok := e.args["bytes"].(float64); ok {
						d.Bytes += b
					}
				}
			}
			d.Busy = cover
			s.Devices = append(s.Devices, d)
			continue
		}
		ts := TrackSummary{Tid: tid, Name: name, Steals: steals[tid], Events: len(evs)}
		// exclusive-time attribution over the event tree
		type open struct {
			e     ev
			inner float64 // time covered by children
			under bool    // inside a wait
		}
		var stack []open
		covered := 0.0
		attribute := func(o open) {
			excl := (o.e.end - o.e.start) - o.inner
			if excl < 0 {
				excl = 0
			}
			switch {
			case o.e.cat == "park":
				ts.Parked += excl
			case o.e.cat == "wait":
				ts.Idle += excl
			case o.under:
				ts.Helping += excl
			default:
				ts.Busy += excl
			}
		}
		pop := func() {
			o := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			attribute(o)
			if len(stack) > 0 {
				stack[len(stack)-1].inner += o.e.end - o.e.start
			} else {
				covered += o.e.end - o.e.start
			}
		}
		for _, e := range evs {
			for len(stack) > 0 && stack[len(stack)-1].e.end <= e.start {
				pop()
			}
			under := false
			if len(stack) > 0 {
				top := stack[len(stack)-1]
				under = top.under || top.e.cat == "wait"
			}
			stack = append(stack, open{e: e, under: under})
			if isRun(e.cat) {
				runs = append(runs, TaskSpan{Name: e.name, Track: name, TS: e.start, Dur: e.end - e.start, Args: e.args})
			}
		}
		for len(stack) > 0 {
			pop()
		}
		ts.Idle += s.SpanUS - covered
		if ts.Idle < 0 {
			ts.Idle = 0
		}
		s.Workers = append(s.Workers, ts)
	}
	slices.SortStableFunc(runs, func(a, b TaskSpan) int {
		if a.Dur > b.Dur {
			return -1
		} else if a.Dur < b.Dur {
			return 1
		}
		return 0
	})
	if len(runs) > 10 {
		runs = runs[:10]
	}
	s.Longest = runs
	return s
}

func fmtUS(us float64) string {
	switch {
	case us >= 1e6:
		return fmt.Sprintf("%.3f s", us/1e6)
	case us >= 1e3:
		return fmt.Sprintf("%.3f ms", us/1e3)
	}
	return fmt.Sprintf("%.1f µs", us)
}

func pct(a, b float64) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

// Print writes the summary as the tables `veda trace summarize` shows.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "span %s, %d events", fmtUS(s.SpanUS), s.Events)
	if s.Dropped > 0 {
		fmt.Fprintf(w, ", %.0f dropped (buffer full: raise max_events)", s.Dropped)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "\n%-22s %12s %12s %12s %12s %7s\n", "track", "busy", "helping", "idle", "parked", "steals")
	for _, t := range s.Workers {
		fmt.Fprintf(w, "%-22s %12s %12s %12s %12s %7d\n", t.Name,
			fmtUS(t.Busy)+" "+pct(t.Busy, s.SpanUS), fmtUS(t.Helping), fmtUS(t.Idle), fmtUS(t.Parked), t.Steals)
	}
	if len(s.Devices) > 0 {
		fmt.Fprintf(w, "\n%-28s %12s %8s %10s %14s\n", "device engine", "busy", "kernels", "transfers", "bytes moved")
		for _, d := range s.Devices {
			fmt.Fprintf(w, "%-28s %12s %8d %10d %14.0f\n", d.Name, fmtUS(d.Busy), d.Kernels, d.Transfers, d.Bytes)
		}
	}
	if len(s.Longest) > 0 {
		fmt.Fprintf(w, "\nlongest runs\n")
		for i, r := range s.Longest {
			var args []string
			for _, k := range slices.Sorted(mapKeys(r.Args)) {
				args = append(args, fmt.Sprintf("%s=%v", k, r.Args[k]))
			}
			fmt.Fprintf(w, "%2d. %-10s %12s  on %-18s at %s  %s\n", i+1, r.Name, fmtUS(r.Dur), r.Track, fmtUS(r.TS), strings.Join(args, " "))
		}
	}
}

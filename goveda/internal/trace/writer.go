package trace

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Meta is what the writer puts beside the events.
type Meta struct {
	Process   string            // process name shown by Perfetto (default "veda")
	StartUnix int64             // wall-clock start, Unix ns (for the reader; not used as a base)
	Other     map[string]string // more otherData entries (version, policy, ...)
}

// WriteJSON writes the stopped trace r to w as Chrome trace-event JSON. Events of each track are
// sorted by start (longer first on ties) and checked for nesting; a complete event that would
// overlap a sibling without nesting goes to an overflow track of its own. Call after Stop.
func (r *Recorder) WriteJSON(w io.Writer, meta Meta) error {
	evs := clipToStart(pairFlows(r.Events()), r.start)
	r.mu.Lock()
	names := make(map[int32]string, len(r.names))
	for k, v := range r.names {
		names[k] = v
	}
	r.mu.Unlock()
	for i := range r.workers {
		if _, ok := names[TrackWorker(i)]; !ok {
			names[TrackWorker(i)] = fmt.Sprintf("worker %d", i)
		}
	}
	if _, ok := names[trackOutside]; !ok {
		names[trackOutside] = "outside callers"
	}
	slices.SortStableFunc(evs, func(a, b Event) int {
		if a.Track != b.Track {
			return int(a.Track - b.Track)
		}
		if a.Start != b.Start {
			if a.Start < b.Start {
				return -1
			}
			return 1
		}
		if a.Dur != b.Dur { // the enclosing event first
			if a.Dur > b.Dur {
				return -1
			}
			return 1
		}
		return 0
	})
	fixNesting(evs, names)

	bw := bufio.NewWriterSize(w, 1<<16)
	proc := meta.Process
	if proc == "" {
		proc = "veda"
	}
	buf := make([]byte, 0, 256)
	bw.WriteString(`{"traceEvents":[`)
	buf = append(buf[:0], `{"name":"process_name","ph":"M","pid":1,"tid":0,"args":{"name":`...)
	buf = strconv.AppendQuote(buf, proc)
	buf = append(buf, "}}"...)
	bw.Write(buf)
	used := map[int32]bool{}
	for _, e := range evs {
		used[e.Track] = true
	}
	for _, i := range slices.Sorted(mapKeys(names)) {
		if !used[i] && !(i >= trackWorkerBase && i < trackWorkerBase+int32(len(r.workers))) {
			continue
		}
		buf = append(buf[:0], `,{"name":"thread_name","ph":"M","pid":1,"tid":`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `,"args":{"name":`...)
		buf = strconv.AppendQuote(buf, names[i])
		buf = append(buf, `}},{"name":"thread_sort_index","ph":"M","pid":1,"tid":`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, `,"args":{"sort_index":`...)
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, "}}"...)
		bw.Write(buf)
	}
	for i := range evs {
		buf = appendEvent(buf[:0], &evs[i], r.start)
		bw.Write(buf)
	}
	bw.WriteString(`],"displayTimeUnit":"ns","otherData":{"dropped_events":`)
	bw.WriteString(strconv.FormatUint(r.Dropped(), 10))
	bw.WriteString(`,"start_unix_ns":`)
	bw.WriteString(strconv.FormatInt(meta.StartUnix, 10))
	for _, k := range slices.Sorted(mapKeys(meta.Other)) {
		buf = append(buf[:0], ',')
		buf = strconv.AppendQuote(buf, k)
		buf = append(buf, ':')
		buf = strconv.AppendQuote(buf, meta.Other[k])
		bw.Write(buf)
	}
	bw.WriteString("}}\n")
	return bw.Flush()
}

// pairFlows drops flow events whose other end is missing (recorded after Stop, or dropped from
// a full buffer), so every flow in the file pairs.
func pairFlows(evs []Event) []Event {
	type key struct {
		c  Cat
		id int64
	}
	n := map[key]int{}
	for i := range evs {
		switch evs[i].Ph {
		case PhFlowStart:
			n[key{evs[i].Cat, evs[i].A}] |= 1
		case PhFlowEnd:
			n[key{evs[i].Cat, evs[i].A}] |= 2
		}
	}
	out := evs[:0]
	for _, e := range evs {
		if (e.Ph == PhFlowStart || e.Ph == PhFlowEnd) && n[key{e.Cat, e.A}] != 3 {
			continue
		}
		out = append(out, e)
	}
	return out
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// fixNesting moves complete events that overlap an open sibling without nesting inside it to
// overflow tracks: track t's k-th overflow track is OverflowTrack(t, k). evs is sorted by
// (track, start, longer first).
func fixNesting(evs []Event, names map[int32]string) {
	var stack []int64 // end times of the open X events of the current track
	track := int32(-1)
	overflow := map[int32][]int32{} // track -> its overflow tracks, each with its last end
	lastEnd := map[int32]int64{}
	for i := range evs {
		e := &evs[i]
		if e.Ph != PhComplete {
			continue
		}
		if e.Track != track {
			track, stack = e.Track, stack[:0]
		}
		for len(stack) > 0 && stack[len(stack)-1] <= e.Start {
			stack = stack[:len(stack)-1]
		}
		end := e.Start + e.Dur
		if len(stack) == 0 || end <= stack[len(stack)-1] {
			stack = append(stack, end)
			continue
		}
		// e starts inside the open event but ends after it: give it an overflow track where
		// it does not overlap anything already placed there (events arrive in start order).
		orig := e.Track
		placed := false
		for _, t := range overflow[orig] {
			if lastEnd[t] <= e.Start {
				e.Track, lastEnd[t], placed = t, end, true
				break
			}
		}
		if !placed {
			t := OverflowTrack(orig, len(overflow[orig]))
			overflow[orig] = append(overflow[orig], t)
			names[t] = names[orig] + " (overlap)"
			e.Track, lastEnd[t] = t, end
		}
	}
}

// clipToStart cuts complete events that began before the trace started (a worker that parked
// while an earlier trace ran, and woke in this one) to the part inside this trace, and drops
// those that ended before it. Without it their start would be clamped to 0 with the whole
// duration kept, and they would overlap the events that really followed them.
func clipToStart(evs []Event, start int64) []Event {
	out := evs[:0]
	for _, e := range evs {
		if e.Ph == PhComplete && e.Start < start {
			if e.Start+e.Dur <= start {
				continue
			}
			e.Dur -= start - e.Start
			e.Start = start
		}
		out = append(out, e)
	}
	return out
}

// appendTS appends ns (relative) as microseconds with three decimals, exactly.
func appendTS(buf []byte, ns int64) []byte {
	if ns < 0 {
		ns = 0
	}
	buf = strconv.AppendInt(buf, ns/1000, 10)
	f := ns % 1000
	if f == 0 {
		return buf
	}
	buf = append(buf, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
	for buf[len(buf)-1] == '0' {
		buf = buf[:len(buf)-1]
	}
	return buf
}

// appendEvent appends ",{...}" for one event. Field order keeps the common events short
// (a chunk is about 85 bytes).
func appendEvent(buf []byte, e *Event, start int64) []byte {
	buf = append(buf, `,{"ph":"`...)
	buf = append(buf, byte(e.Ph))
	buf = append(buf, `","name":`...)
	name := e.Name
	if name == "" {
		name = e.Cat.String()
	}
	buf = strconv.AppendQuote(buf, name)
	if name != e.Cat.String() || e.Ph == PhFlowStart || e.Ph == PhFlowEnd {
		buf = append(buf, `,"cat":"`...)
		buf = append(buf, e.Cat.String()...)
		buf = append(buf, '"')
	}
	buf = append(buf, `,"pid":1,"tid":`...)
	buf = strconv.AppendInt(buf, int64(e.Track), 10)
	buf = append(buf, `,"ts":`...)
	buf = appendTS(buf, e.Start-start)
	switch e.Ph {
	case PhComplete:
		buf = append(buf, `,"dur":`...)
		buf = appendTS(buf, e.Dur)
	case PhInstant:
		buf = append(buf, `,"s":"t"`...)
	case PhFlowStart, PhFlowEnd:
		buf = append(buf, `,"id":`...)
		buf = strconv.AppendInt(buf, e.A, 10)
		if e.Ph == PhFlowEnd {
			buf = append(buf, `,"bp":"e"`...)
		}
		return append(buf, '}')
	}
	buf = appendArgs(buf, e)
	return append(buf, '}')
}

func appendArgs(buf []byte, e *Event) []byte {
	open := func(b []byte) []byte { return append(b, `,"args":{`...) }
	switch e.Cat {
	case CatChunk:
		buf = open(buf)
		buf = append(buf, `"lo":`...)
		buf = strconv.AppendInt(buf, e.A, 10)
		buf = append(buf, `,"hi":`...)
		buf = strconv.AppendInt(buf, e.B, 10)
	case CatWait:
		buf = open(buf)
		if e.A != 0 {
			buf = append(buf, `"helping":true`...)
		} else {
			buf = append(buf, `"helping":false`...)
		}
	case CatKernel, CatH2D, CatD2H:
		buf = open(buf)
		buf = append(buf, `"bytes":`...)
		buf = strconv.AppendInt(buf, e.A, 10)
	case CatStage:
		buf = open(buf)
		buf = append(buf, `"seq":`...)
		buf = strconv.AppendInt(buf, e.A, 10)
	case CatResize:
		buf = open(buf)
		buf = append(buf, `"active":`...)
		buf = strconv.AppendInt(buf, e.A, 10)
	case CatCounter:
		buf = open(buf)
		buf = append(buf, `"value":`...)
		buf = strconv.AppendInt(buf, e.A, 10)
	default:
		if e.Args == "" {
			return buf
		}
		buf = open(buf)
		buf = append(buf, e.Args...)
		return append(buf, '}')
	}
	if e.Args != "" {
		buf = append(buf, ',')
		buf = append(buf, e.Args...)
	}
	return append(buf, '}')
}

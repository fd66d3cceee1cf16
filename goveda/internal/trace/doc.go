// Package trace records what ran where, as a timeline, and writes it in the Chrome trace-event
// JSON format (`{"traceEvents":[...]}`) that Perfetto (ui.perfetto.dev) and chrome://tracing open.
//
// # Glossary
//
//   - Recorder: one trace in progress. It owns one Buffer per worker and one shared buffer for
//     everything else (device engines, pipeline bookkeeping, the dispatcher).
//   - Track: a timeline lane. Track i+1 is worker i; device engines, pipelines and the
//     counters have tracks of their own (see the Track* helpers). A track is a Chrome "thread".
//   - Event: a complete slice (ph "X": ts, dur), an instant (ph "i"), a flow end point (ph "s" /
//     "f": a steal, or a dispatch decision leading to a device run) or a counter sample (ph "C").
//
// # Hot path
//
// A worker appends to its own Buffer with no lock: two uncontended atomic stores and a load
// around a slice write (the busy/closed Dekker pair below). When tracing is off the runtime
// holds a nil *Recorder, and the cost at each site is one predictable branch on that pointer.
// Each Buffer is a ring of at most MaxEvents/len(buffers) events: when it is full the oldest
// events are overwritten and counted, and the count is written into the file
// (otherData.dropped_events).
//
// # Stopping
//
// Stop sets every buffer's closed flag and then waits until no writer is inside an append:
//
//	writer: busy.Store(true); if closed.Load() { busy.Store(false); return }; append; busy.Store(false)
//	stop:   closed.Store(true); for busy.Load() {}; read
//
// Both sides use Go's sequentially consistent atomics, so either the writer sees closed and backs
// out, or Stop sees busy and waits for the append to end. After Stop returns, no buffer is
// written again and the events can be read without synchronisation.
//
// # What breaks Perfetto, and how the writer avoids it
//
//   - Timestamps are microseconds relative to the trace's start, written as decimal numbers
//     with nanosecond resolution (absolute epoch floats lose precision).
//   - Flow ids are small counters (far below 2^53).
//   - X events on one track nest: events of one worker come from one goroutine's call stack,
//     so they nest by construction; they are sorted by (start, longer first) before writing.
//     Events of tracks written from several goroutines (device engines) are serialised by the
//     engine itself; the writer checks nesting per track and moves any slice that would overlap
//     without nesting onto an overflow track of its own, so the file never has a broken track.
package trace

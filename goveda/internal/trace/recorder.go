package trace

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
)

// Cat is an event's category: it picks the event's name, its arguments and its colour in plots.
type Cat uint8

// The categories. The string forms (Cat.String) are what the JSON file carries in "cat".
const (
	CatTask     Cat = iota + 1 // a task body (X); Name is the task kind
	CatChunk                   // a loop chunk (X); A, B = [lo, hi)
	CatWait                    // a Join/Scope/Future wait (X); A = 1 if it helped (ran tasks), else 0
	CatPark                    // a parked worker (X)
	CatKernel                  // a kernel run on a device engine (X); Name = kernel, A = bytes
	CatH2D                     // a host-to-device transfer (X); A = bytes
	CatD2H                     // a device-to-host transfer (X); A = bytes
	CatStage                   // a pipeline stage run (X); Name = stage, A = item sequence number
	CatDecision                // a dispatch decision (instant); Args = JSON fields
	CatResize                  // an adaptive resize (instant); A = active workers, Args = reason
	CatError                   // an error or recovered panic (instant); Args = message
	CatSteal                   // a steal flow (s on the victim's track, f on the thief's); A = flow id
	CatDispatch                // a dispatch flow (s at the decision, f at the device run); A = flow id
	CatCounter                 // a counter sample (C); Name = counter, A = value
	catEnd
)

var catNames = [...]string{"", "task", "chunk", "wait", "park", "kernel", "h2d", "d2h", "stage",
	"decision", "resize", "error", "steal", "dispatch", "counter"}

// String returns the category's name as written in the file.
func (c Cat) String() string {
	if c >= catEnd {
		return "unknown"
	}
	return catNames[c]
}

// Phase is the Chrome trace-event phase of an event.
type Phase byte

// The phases used.
const (
	PhComplete  Phase = 'X'
	PhInstant   Phase = 'i'
	PhFlowStart Phase = 's'
	PhFlowEnd   Phase = 'f'
	PhCounter   Phase = 'C'
)

// Event is one recorded event. Times are nanoseconds on the runtime's clock; the writer makes
// them relative to the trace's start. Events are values: recording one allocates nothing beyond
// the buffer's slot (Name should be a constant or a long-lived string).
type Event struct {
	Start int64 // ns, runtime clock
	Dur   int64 // ns (complete events only)
	Track int32 // the lane (see TrackWorker, TrackDevice, ...)
	Ph    Phase
	Cat   Cat
	Name  string
	A, B  int64  // numeric arguments, by category (see Cat)
	Args  string // extra arguments as the inside of a JSON object (`"k":1,"r":"x"`), or ""
}

// Track numbering. Track 0 is never used (Perfetto treats tid 0 specially).
const (
	trackWorkerBase   = 1
	trackDeviceBase   = 1000
	trackPipelineBase = 3000
	trackOverflowBase = 100000
	trackOutside      = 999 // goroutines that are not workers (outside callers)
)

// Engine is a device engine: each has its own track.
type Engine int32

// The engines of a device.
const (
	EngineCompute Engine = 0
	EngineH2D     Engine = 1
	EngineD2H     Engine = 2
)

// TrackWorker returns worker i's track.
func TrackWorker(i int) int32 { return int32(trackWorkerBase + i) }

// TrackDevice returns the track of device d's engine e.
func TrackDevice(d int, e Engine) int32 { return int32(trackDeviceBase + 4*d + int(e)) }

// TrackPipeline returns the track of pipeline p's bookkeeping (stage runs are on the workers).
func TrackPipeline(p int) int32 { return int32(trackPipelineBase + p) }

// OverflowTrack returns the k-th overflow track of track t: where the writer puts slices of t
// that overlap without nesting (up to 64 per track).
func OverflowTrack(t int32, k int) int32 { return trackOverflowBase + t*64 + int32(k%64) }

// BaseTrack returns the track an overflow track belongs to (t itself for other tracks).
func BaseTrack(t int64) int64 {
	if t >= trackOverflowBase {
		return (t - trackOverflowBase) / 64
	}
	return t
}

// TrackOutside is the track of work done by goroutines that are not workers.
func TrackOutside() int32 { return trackOutside }

// DefaultMaxEvents bounds a trace when Options.MaxEvents is 0.
const DefaultMaxEvents = 1_000_000

// Options configure a Recorder.
type Options struct {
	// MaxEvents bounds the events kept (default DefaultMaxEvents). When a buffer is full its
	// oldest events are dropped and counted.
	MaxEvents int
}

// ErrInvalid is returned for bad options.
var ErrInvalid = errors.New("veda: trace: invalid argument")

// Recorder is one trace in progress. Create it with NewRecorder; record through Worker(i).Add
// (owner worker only) or Add (any goroutine); Stop it, then write it with WriteJSON.
type Recorder struct {
	start   int64 // runtime clock at the start
	workers []Buffer
	shared  Buffer     // non-worker tracks; guarded by mu
	mu      sync.Mutex // guards shared and names
	names   map[int32]string

	flows atomic.Uint64 // add: flow ids, unique per trace; no ordering role
	other atomic.Int64  // add: counts events refused after Stop; no ordering role
}

// NewRecorder starts a trace for a pool of workers. start is the runtime clock now. Any
// goroutine.
func NewRecorder(workers int, start int64, opts Options) (*Recorder, error) {
	if workers < 0 {
		return nil, ErrInvalid
	}
	max := opts.MaxEvents
	if max < 0 {
		return nil, ErrInvalid
	}
	if max == 0 {
		max = DefaultMaxEvents
	}
	// Each worker gets an equal share; the shared buffer (devices, pipelines, decisions) as much
	// as one worker, at least 1024 events.
	per := max / (workers + 1)
	if per < 16 {
		per = 16
	}
	r := &Recorder{start: start, workers: make([]Buffer, workers), names: map[int32]string{}}
	for i := range r.workers {
		r.workers[i].cap = per
	}
	r.shared.cap = max - per*workers
	if r.shared.cap < 1024 {
		r.shared.cap = 1024
	}
	return r, nil
}

// Start returns the runtime-clock time at which the trace started.
func (r *Recorder) Start() int64 { return r.start }

// Worker returns worker i's buffer. Only worker i may Add to it.
func (r *Recorder) Worker(i int) *Buffer { return &r.workers[i] }

// Add records an event from any goroutine (a device engine, a pipeline, an outside caller).
// It takes a lock: use it off the hot path.
func (r *Recorder) Add(ev Event) {
	r.mu.Lock()
	if !r.shared.closed.Load() { // load: closed is only stored by Stop, under mu as well
		r.shared.put(ev)
	}
	r.mu.Unlock()
}

// NameTrack gives a track its display name (a Chrome thread_name). Any goroutine.
func (r *Recorder) NameTrack(track int32, name string) {
	r.mu.Lock()
	r.names[track] = name
	r.mu.Unlock()
}

// NameTrackOnce names a track unless it has a name already. Any goroutine.
func (r *Recorder) NameTrackOnce(track int32, name func() string) {
	r.mu.Lock()
	if _, ok := r.names[track]; !ok {
		r.names[track] = name()
	}
	r.mu.Unlock()
}

// FlowID returns a fresh flow id (1, 2, 3, ...). Any goroutine.
func (r *Recorder) FlowID() int64 {
	return int64(r.flows.Add(1)) // add: unique ids only
}

// Stop ends recording: after it returns no buffer changes. Idempotent. Any goroutine.
func (r *Recorder) Stop() {
	r.mu.Lock()
	r.shared.closed.Store(true) // store: later Adds see it under mu
	r.mu.Unlock()
	for i := range r.workers {
		r.workers[i].close()
	}
}

// Dropped returns the number of events dropped because a buffer was full. Call after Stop.
func (r *Recorder) Dropped() uint64 {
	n := r.shared.dropped
	for i := range r.workers {
		n += r.workers[i].dropped
	}
	return n
}

// Events returns every kept event (unsorted). Call after Stop.
func (r *Recorder) Events() []Event {
	var out []Event
	out = r.shared.appendTo(out)
	for i := range r.workers {
		out = r.workers[i].appendTo(out)
	}
	return out
}

// Buffer is one writer's ring of events.
type Buffer struct {
	// busy: store-true by the owner before it reads closed and writes a slot, store-false after
	// (seq-cst); loaded by Stop after it stored closed. The Dekker pair of doc.go.
	busy atomic.Bool
	// closed: store by Stop (seq-cst), loaded by the owner after it stored busy.
	closed atomic.Bool

	// The ring, in chunks of chunkEvents allocated as needed (never copied when it grows), up to
	// cap events; owner only until Stop returns.
	chunks  [][]Event
	n       int // events kept
	head    int // once full: the oldest event, the next to overwrite
	cap     int
	dropped uint64
	_       [64]byte // keep workers' buffers on separate cache lines
}

// Add records ev. Owner only (the buffer's worker). Cost: ~10 ns plus the slot write.
func (b *Buffer) Add(ev Event) {
	b.busy.Store(true)
	if b.closed.Load() {
		b.busy.Store(false)
		return
	}
	b.put(ev)
	b.busy.Store(false)
}

// chunkEvents is the size of a buffer's allocation unit (about 300 KB).
const chunkEvents = 4096

func (b *Buffer) put(ev Event) {
	if b.n < b.cap {
		ci := b.n / chunkEvents
		if ci == len(b.chunks) {
			b.chunks = append(b.chunks, make([]Event, 0, min(chunkEvents, b.cap-b.n)))
		}
		b.chunks[ci] = append(b.chunks[ci], ev)
		b.n++
		return
	}
	b.chunks[b.head/chunkEvents][b.head%chunkEvents] = ev
	b.head++
	if b.head == b.n {
		b.head = 0
	}
	b.dropped++
}

// close stops the owner's appends and waits for one in progress. Stop only.
func (b *Buffer) close() {
	b.closed.Store(true)
	for b.busy.Load() { // an append takes nanoseconds, unless its goroutine was preempted
		runtime.Gosched()
	}
}

func (b *Buffer) appendTo(out []Event) []Event {
	// oldest first: from head (0 unless the ring wrapped) round to head
	for i := 0; i < b.n; i++ {
		k := i
		if b.dropped > 0 {
			k = (b.head + i) % b.n
		}
		out = append(out, b.chunks[k/chunkEvents][k%chunkEvents])
	}
	return out
}

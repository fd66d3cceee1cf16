package trace

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func write(t *testing.T, r *Recorder) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := r.WriteJSON(&b, Meta{StartUnix: 1, Other: map[string]string{"veda_version": "test"}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func read(t *testing.T, data []byte) *File {
	t.Helper()
	f, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestWriteValidates(t *testing.T) {
	r, err := NewRecorder(2, 1000, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w0 := r.Worker(0)
	// worker 0: a task containing a helping wait containing a chunk; then a park
	w0.Add(Event{Start: 1100, Dur: 50, Track: TrackWorker(0), Ph: PhComplete, Cat: CatChunk, A: 0, B: 64})
	w0.Add(Event{Start: 1050, Dur: 200, Track: TrackWorker(0), Ph: PhComplete, Cat: CatWait, A: 1})
	w0.Add(Event{Start: 1000, Dur: 300, Track: TrackWorker(0), Ph: PhComplete, Cat: CatTask, Name: "join"})
	w0.Add(Event{Start: 1400, Dur: 1000, Track: TrackWorker(0), Ph: PhComplete, Cat: CatPark})
	// worker 1 stole from worker 0
	id := r.FlowID()
	w1 := r.Worker(1)
	w1.Add(Event{Start: 1060, Track: TrackWorker(0), Ph: PhFlowStart, Cat: CatSteal, A: id})
	w1.Add(Event{Start: 1060, Track: TrackWorker(1), Ph: PhFlowEnd, Cat: CatSteal, A: id})
	w1.Add(Event{Start: 1060, Dur: 90, Track: TrackWorker(1), Ph: PhComplete, Cat: CatTask, Name: "join"})
	// a device engine and a decision
	r.NameTrack(TrackDevice(1, EngineCompute), "device 1 (pocl) compute")
	r.Add(Event{Start: 1500, Dur: 100, Track: TrackDevice(1, EngineH2D), Ph: PhComplete, Cat: CatH2D, A: 4096})
	r.Add(Event{Start: 1600, Dur: 300, Track: TrackDevice(1, EngineCompute), Ph: PhComplete, Cat: CatKernel, Name: "saxpy", A: 4096})
	r.Add(Event{Start: 1450, Track: TrackOutside(), Ph: PhInstant, Cat: CatDecision, Args: `"device":1,"reason":"earliest finish"`})
	r.Add(Event{Start: 1450, Track: TrackOutside(), Ph: PhCounter, Cat: CatCounter, Name: "active workers", A: 2})
	r.Stop()
	w0.Add(Event{Start: 5000, Dur: 1, Track: TrackWorker(0), Ph: PhComplete, Cat: CatTask}) // after Stop: ignored
	data := write(t, r)
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	f := read(t, data)
	if errs := Validate(f); len(errs) > 0 {
		t.Fatalf("invalid: %v\n%s", errs, data)
	}
	if strings.Contains(string(data), `"ts":5000`) || strings.Contains(string(data), `"ts":4`) {
		t.Fatalf("event after Stop was written:\n%s", data)
	}
	// relative µs: the chunk started 100 ns after the trace
	if !strings.Contains(string(data), `"name":"chunk","pid":1,"tid":1,"ts":0.1,"dur":0.05,"args":{"lo":0,"hi":64}`) {
		t.Fatalf("chunk event not as expected:\n%s", data)
	}
	s := Summarize(f)
	if len(s.Workers) < 2 || len(s.Devices) != 2 {
		t.Fatalf("summary tracks: %+v %+v", s.Workers, s.Devices)
	}
	w := s.Workers[0]
	// span is 0 .. 1.4 µs (the park ends at 2400-1000 = 1400 ns)
	if got := w.Busy + w.Helping + w.Idle + w.Parked; got < s.SpanUS-1e-6 || got > s.SpanUS+1e-6 {
		t.Fatalf("worker 0 times add to %v, span %v", got, s.SpanUS)
	}
	if w.Helping < 0.049 || w.Helping > 0.051 || w.Parked < 0.99 || w.Parked > 1.01 {
		t.Fatalf("worker 0: %+v", w)
	}
	if s.Workers[1].Steals != 1 {
		t.Fatalf("worker 1 steals %d", s.Workers[1].Steals)
	}
	var out bytes.Buffer
	s.Print(&out)
	if !strings.Contains(out.String(), "device 1 (pocl) compute") || !strings.Contains(out.String(), "longest runs") {
		t.Fatalf("summary:\n%s", out.String())
	}
}

func TestOverlapMovedToOverflowTrack(t *testing.T) {
	r, _ := NewRecorder(0, 0, Options{})
	tr := TrackDevice(0, EngineCompute)
	r.Add(Event{Start: 0, Dur: 100, Track: tr, Ph: PhComplete, Cat: CatKernel})
	r.Add(Event{Start: 50, Dur: 100, Track: tr, Ph: PhComplete, Cat: CatKernel}) // overlaps, does not nest
	r.Add(Event{Start: 60, Dur: 10, Track: tr, Ph: PhComplete, Cat: CatKernel})  // nests in the first
	r.Stop()
	data := write(t, r)
	if errs := Validate(read(t, data)); len(errs) > 0 {
		t.Fatalf("invalid: %v\n%s", errs, data)
	}
	if !strings.Contains(string(data), "(overlap)") {
		t.Fatalf("no overflow track:\n%s", data)
	}
}

func TestValidatorCatchesBadTraces(t *testing.T) {
	cases := map[string]string{
		"overlap":      `{"traceEvents":[{"ph":"X","name":"a","pid":1,"tid":1,"ts":0,"dur":10},{"ph":"X","name":"b","pid":1,"tid":1,"ts":5,"dur":10}]}`,
		"unpaired":     `{"traceEvents":[{"ph":"s","name":"a","cat":"steal","id":1,"pid":1,"tid":1,"ts":0}]}`,
		"negative ts":  `{"traceEvents":[{"ph":"i","name":"a","pid":1,"tid":1,"ts":-1}]}`,
		"epoch":        `{"traceEvents":[{"ph":"i","name":"a","pid":1,"tid":1,"ts":1.7e15}]}`,
		"big id":       `{"traceEvents":[{"ph":"s","name":"a","cat":"c","id":1e16,"pid":1,"tid":1,"ts":0},{"ph":"f","name":"a","cat":"c","id":1e16,"pid":1,"tid":1,"ts":0}]}`,
		"no dur":       `{"traceEvents":[{"ph":"X","name":"a","pid":1,"tid":1,"ts":0}]}`,
		"no pid":       `{"traceEvents":[{"ph":"X","name":"a","ts":0,"dur":1}]}`,
		"counter text": `{"traceEvents":[{"ph":"C","name":"a","pid":1,"tid":1,"ts":0,"args":{"v":"x"}}]}`,
		"flow reverse": `{"traceEvents":[{"ph":"s","name":"a","cat":"c","id":1,"pid":1,"tid":1,"ts":5},{"ph":"f","name":"a","cat":"c","id":1,"pid":1,"tid":1,"ts":1}]}`,
	}
	for name, js := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Read(strings.NewReader(js))
			if err != nil {
				t.Fatal(err)
			}
			if errs := Validate(f); len(errs) == 0 {
				t.Fatalf("validator accepted %s", js)
			}
		})
	}
	if _, err := Read(strings.NewReader(`{"nope":1}`)); err == nil {
		t.Fatal("Read accepted a file without traceEvents")
	}
	if _, err := Read(strings.NewReader(`not json`)); err == nil {
		t.Fatal("Read accepted garbage")
	}
}

func TestBoundedDropsOldest(t *testing.T) {
	r, _ := NewRecorder(1, 0, Options{MaxEvents: 64})
	b := r.Worker(0)
	for i := 0; i < 1000; i++ {
		b.Add(Event{Start: int64(i * 10), Dur: 5, Track: TrackWorker(0), Ph: PhComplete, Cat: CatTask})
	}
	r.Stop()
	evs := r.Events()
	if len(evs) != 32 || r.Dropped() != 1000-32 {
		t.Fatalf("kept %d dropped %d", len(evs), r.Dropped())
	}
	if evs[0].Start != int64((1000-32)*10) || evs[len(evs)-1].Start != 9990 {
		t.Fatalf("did not keep the newest: first %d last %d", evs[0].Start, evs[len(evs)-1].Start)
	}
	data := write(t, r)
	if !strings.Contains(string(data), `"dropped_events":968`) {
		t.Fatalf("drop count not in file")
	}
	if _, err := NewRecorder(1, 0, Options{MaxEvents: -1}); err == nil {
		t.Fatal("negative MaxEvents accepted")
	}
}

// TestStopRacesWriters: Stop while workers append; run under -race.
func TestStopRacesWriters(t *testing.T) {
	r, _ := NewRecorder(4, 0, Options{MaxEvents: 1 << 12})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b := r.Worker(i)
			for k := int64(0); ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				b.Add(Event{Start: k, Dur: 1, Track: TrackWorker(i), Ph: PhComplete, Cat: CatTask})
				r.Add(Event{Start: k, Track: TrackOutside(), Ph: PhCounter, Cat: CatCounter, Name: "q", A: k})
			}
		}(i)
	}
	time.Sleep(5 * time.Millisecond) // let the writers fill the rings (Events may be read only after Stop)
	r.Stop()
	n := len(r.Events())
	for i := 0; i < 1000; i++ {
		if len(r.Events()) != n {
			t.Fatal("buffer changed after Stop")
		}
	}
	close(stop)
	wg.Wait()
	if len(r.Events()) != n {
		t.Fatal("buffer changed after Stop")
	}
}

func TestPlotWritesImages(t *testing.T) {
	r, _ := NewRecorder(2, 0, Options{})
	for i := 0; i < 2; i++ {
		b := r.Worker(i)
		for k := 0; k < 50; k++ {
			b.Add(Event{Start: int64(k * 1000), Dur: 800, Track: TrackWorker(i), Ph: PhComplete, Cat: CatChunk, A: int64(k), B: int64(k + 1)})
		}
	}
	r.Add(Event{Start: 100, Dur: 30000, Track: TrackDevice(1, EngineCompute), Ph: PhComplete, Cat: CatKernel, Name: "saxpy"})
	r.Stop()
	f := read(t, write(t, r))
	dir := t.TempDir()
	for _, name := range []string{"t.png", "t.svg"} {
		out := filepath.Join(dir, name)
		if err := Plot(f, out, ""); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(out)
		if err != nil || st.Size() < 500 {
			t.Fatalf("%s: %v size %v", name, err, st)
		}
	}
	png, _ := os.ReadFile(filepath.Join(dir, "t.png"))
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("not a PNG")
	}
	if err := Plot(f, filepath.Join(dir, "t.gif"), ""); err == nil {
		t.Fatal("gif accepted")
	}
	empty, _ := Read(strings.NewReader(`{"traceEvents":[]}`))
	if err := Plot(empty, filepath.Join(dir, "e.png"), ""); err == nil {
		t.Fatal("empty trace plotted")
	}
}

// TestBoundedAcrossChunks: the ring keeps the newest MaxEvents/(workers+1) events across chunk
// boundaries, oldest first.
func TestBoundedAcrossChunks(t *testing.T) {
	const per = 3*chunkEvents + 100
	r, _ := NewRecorder(1, 0, Options{MaxEvents: 2 * per})
	b := r.Worker(0)
	const total = 5*chunkEvents + 7
	for i := 0; i < total; i++ {
		b.Add(Event{Start: int64(i), Track: TrackWorker(0), Ph: PhInstant, Cat: CatError})
	}
	r.Stop()
	var mine []Event
	for _, e := range r.Events() {
		if e.Track == TrackWorker(0) {
			mine = append(mine, e)
		}
	}
	if len(mine) != per || r.Dropped() != total-per {
		t.Fatalf("kept %d dropped %d, want %d and %d", len(mine), r.Dropped(), per, total-per)
	}
	for i, e := range mine {
		if e.Start != int64(total-per+i) {
			t.Fatalf("event %d is %d, want %d", i, e.Start, total-per+i)
		}
	}
}

package goveda

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/veda-runtime/veda/goveda/internal/device"
)

// sentinels lists every Err* value; each error goveda returns wraps exactly one of them.
var sentinels = []error{ErrInvalidArgument, ErrOutOfMemory, ErrClosed, ErrTaskFailed, ErrDevice,
	ErrUnsupported, ErrTimeout, ErrCancelled, ErrInternal}

// wrapped returns the sentinels err wraps.
func wrapped(err error) []error {
	var out []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkMessage fails t if msg stutters ("veda: " after its start) or prints a monotonic clock
// reading ("m=+0.5"), as time.Time's String does.
func checkMessage(t *testing.T, msg string) {
	t.Helper()
	if !strings.HasPrefix(msg, "veda: ") {
		t.Errorf("%q: does not start with \"veda: \"", msg)
	}
	if strings.Count(msg, "veda: ") != 1 {
		t.Errorf("%q: stutters (\"veda: \" more than once)", msg)
	}
	if strings.Contains(msg, "m=+") || strings.Contains(msg, "m=-") {
		t.Errorf("%q: prints the monotonic clock", msg)
	}
}

func TestErrorsWrapOneSentinelAndReadWell(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	timedOut, cancel2 := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel2()
	<-timedOut.Done()
	caused, cancel3 := context.WithCancelCause(context.Background())
	cancel3(errors.New("veda: stop requested"))

	rt := newRT(t, Config{Workers: 1})
	late := Submit(rt, TaskOptions{Deadline: time.Now().Add(-time.Second)}, func(context.Context) (int, error) { return 0, nil })
	_, lateErr := late.Wait(context.Background())

	cases := []struct {
		name string
		err  error
		want error   // the one sentinel
		also []error // other errors it must wrap
	}{
		{"cancel", rt.ParallelFor(cancelled, 0, 10, 0, func(int, int) error { return nil }), ErrCancelled, []error{context.Canceled}},
		{"deadline", rt.ParallelFor(timedOut, 0, 10, 0, func(int, int) error { return nil }), ErrTimeout, []error{context.DeadlineExceeded}},
		{"cause", rt.Scope(caused, func(*Scope) {}), ErrCancelled, nil},
		{"late task", lateErr, ErrTimeout, nil},
		{"device closed", mapDeviceError(fmt.Errorf("saxpy: %w", device.ErrClosed)), ErrClosed, []error{device.ErrClosed}},
		{"device oom", mapDeviceError(device.ErrOutOfMemory), ErrOutOfMemory, []error{device.ErrOutOfMemory}},
		{"device fault", mapDeviceError(errors.New("veda: device: CL_OUT_OF_RESOURCES")), ErrDevice, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error")
			}
			if got := wrapped(c.err); len(got) != 1 || got[0] != c.want {
				t.Fatalf("%q wraps %v, want exactly [%v]", c.err, got, c.want)
			}
			for _, e := range c.also {
				if !errors.Is(c.err, e) {
					t.Fatalf("%q does not wrap %v", c.err, e)
				}
			}
			checkMessage(t, c.err.Error())
		})
	}
}

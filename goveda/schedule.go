package goveda

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/veda-runtime/veda/goveda/internal/sched"
)

// Deterministic record and replay: Config.RecordSchedule / VEDA_SCHEDULE_RECORD write the
// schedule a deterministic run used; Config.ReplaySchedule / VEDA_SCHEDULE_REPLAY force it on a
// later run. The mechanism is in internal/sched/schedule.go.

// scheduleOptions validates the schedule settings (Config, then the environment) and loads a
// replay file into o. Errors wrap ErrInvalidArgument. New only.
func (rt *Runtime) scheduleOptions(o *sched.Options) error {
	rec, rep := rt.cfg.RecordSchedule, rt.cfg.ReplaySchedule
	if rec == "" {
		rec = os.Getenv("VEDA_SCHEDULE_RECORD")
	}
	if rep == "" {
		rep = os.Getenv("VEDA_SCHEDULE_REPLAY")
	}
	if rec == "" && rep == "" {
		return nil
	}
	if rt.cfg.Policy != PolicyDeterministic {
		return invalidf("schedule record and replay need PolicyDeterministic (policy is %s): only its split trees are the same from run to run", rt.cfg.Policy)
	}
	if rec != "" {
		// fail now, not at Close, when the file cannot be written
		f, err := os.OpenFile(rec, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return fmt.Errorf("%w: cannot write the schedule to %s: %v", ErrInvalidArgument, rec, errors.Unwrap(err))
		}
		f.Close()
		rt.schedPath = rec
		o.RecordSchedule = true
	}
	if rep != "" {
		data, err := os.ReadFile(rep)
		if err != nil {
			return fmt.Errorf("%w: cannot read the schedule %s: %v", ErrInvalidArgument, rep, errors.Unwrap(err))
		}
		s, err := sched.UnmarshalSchedule(data)
		if err != nil {
			return wrap(ErrInvalidArgument, fmt.Errorf("%s: %w", rep, err))
		}
		if s.Workers != rt.cfg.Workers {
			return wrap(ErrInvalidArgument, fmt.Errorf("%s: %w: recorded with %d workers, this runtime has %d (set Workers or VEDA_NUM_WORKERS to %d)",
				rep, sched.ErrSchedule, s.Workers, rt.cfg.Workers, s.Workers))
		}
		o.ReplaySchedule = s
	}
	return nil
}

// writeSchedule writes the recorded schedule at Close, atomically (a temporary file renamed
// into place). A write error is reported on stderr: Close has no better channel for it.
func (rt *Runtime) writeSchedule() {
	if rt.schedPath == "" {
		return
	}
	s := rt.pool.RecordedSchedule()
	if s == nil {
		return
	}
	data, err := sched.MarshalSchedule(s, rt.cfg.Policy.String())
	if err == nil {
		tmp := filepath.Join(filepath.Dir(rt.schedPath), "."+filepath.Base(rt.schedPath)+".tmp")
		if err = os.WriteFile(tmp, data, 0o644); err == nil {
			err = os.Rename(tmp, rt.schedPath)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "veda: writing the recorded schedule to %s: %v\n", rt.schedPath, err)
	}
}

// ScheduleError returns the mismatch found while replaying a schedule (Config.ReplaySchedule),
// or nil. After a mismatch the runtime schedules normally, so results stay correct; only the
// forced order is lost. Any goroutine.
func (rt *Runtime) ScheduleError() error {
	if err := rt.pool.ReplayError(); err != nil {
		return wrap(ErrInvalidArgument, err)
	}
	return nil
}

// ScheduleKey names a loop chunk by its range in a recorded schedule.
func (j *forJob) ScheduleKey() uint64 { return uint64(j.lo)<<32 ^ uint64(j.hi) }

// ScheduleKey names a reduce chunk by its range in a recorded schedule.
func (j *reduceJob[T]) ScheduleKey() uint64 { return uint64(j.lo)<<32 ^ uint64(j.hi) }

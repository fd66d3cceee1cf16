package sched

// Runner is a task's body. Run is called exactly once, on a worker goroutine, by the worker that
// took the task (owner pop, steal or injector pop). It must not panic: every Runner recovers user
// panics itself and reports them through its own result slot.
type Runner interface {
	Run(w *Worker)
}

// Task is the unit the deques and the injector hold. It is embedded in a job struct that also
// implements Runner, so a job costs one allocation.
type Task struct {
	Job  Runner // set before the task is published (Push, Inject); never changed after
	Done Latch  // set by the executing worker after Job.Run returns
	id   uint64 // stable id for schedule record/replay (schedule.go); set at publication
}

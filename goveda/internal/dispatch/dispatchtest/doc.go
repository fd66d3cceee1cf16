// Package dispatchtest holds the TEST DOUBLES of package dispatch: SimDevice
// (a simulated device with a declared throughput, latency and bandwidth),
// Simulate (a virtual-clock run of a Dispatcher over simulated devices),
// SimExecutor, and the mixed workload generator (Workload, RunWorkload,
// RunWall, static splits). They serve the dispatcher's tests and the dispatch
// benchmark (cmd/dispatchbench); the runtime never uses them for real work.
package dispatchtest

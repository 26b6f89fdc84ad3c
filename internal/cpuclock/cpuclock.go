// Package cpuclock reads the calling thread's CPU time, so benchmarks on a
// shared machine can report throughput per CPU second next to wall-clock
// throughput: other processes slow the wall clock, not the thread's CPU.
package cpuclock

import "time"

// Thread returns the calling OS thread's CPU time and whether the platform
// has one. Pin the goroutine (runtime.LockOSThread) between two readings.
func Thread() (time.Duration, bool) { return thread() }

package cpuclock

import (
	"runtime"
	"testing"
)

func TestThreadAdvances(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a, ok := Thread()
	if !ok {
		t.Skip("no thread CPU clock on " + runtime.GOOS)
	}
	x := 0
	for i := 0; i < 20_000_000; i++ {
		x += i % 7
	}
	b, _ := Thread()
	if b <= a || x == 0 {
		t.Fatalf("thread CPU time did not advance: %v → %v", a, b)
	}
}

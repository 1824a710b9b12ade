package proccpu

import "testing"

func TestSecondsGrowsWithWork(t *testing.T) {
	before := Seconds()
	x := 0
	for i := 0; Seconds()-before < 0.02 && i < 1e10; i++ {
		x += i
	}
	if got := Seconds() - before; got < 0.02 {
		t.Fatalf("CPU time grew by %.3f s during a busy loop, want at least 0.02 s", got)
	}
	_ = x
}

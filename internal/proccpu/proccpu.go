package proccpu

import "syscall"

// Seconds returns this process's user plus system CPU time in seconds, all
// goroutines and the garbage collector included. It returns 0 when the
// system does not report it.
func Seconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

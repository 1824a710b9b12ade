package server

import (
	"log/slog"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
)

// Connection and stream idle limits.
const (
	// DefaultStreamIdleTimeout is how long a client-streaming call may wait
	// for its next request message before the server closes it.
	DefaultStreamIdleTimeout = 2 * time.Minute
	// DefaultConnIdleTimeout is how long a connection without calls is kept
	// (keepalive MaxConnectionIdle); the client is sent a GOAWAY.
	DefaultConnIdleTimeout = 15 * time.Minute
)

// idleStreams closes a client-streaming call (ScreenContacts, LoadDataset)
// whose handler has waited longer than timeout for the next request
// message: the call ends DEADLINE_EXCEEDED with an ErrorInfo (reason
// STREAM_IDLE, metadata idle_timeout_ms). Time the server spends screening,
// loading or sending is not idle time. A timeout of 0 or less turns it off.
//
// It must be the outermost stream interceptor: the handler (and the other
// interceptors, panic recovery included) runs in its own goroutine, so that
// the call can be ended while the handler is blocked in RecvMsg; ending the
// call cancels the stream, which returns the handler from RecvMsg.
func idleStreams(timeout time.Duration, log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if timeout <= 0 || !info.IsClientStream {
			return h(srv, ss)
		}
		s := &idleStream{ServerStream: ss, timeout: timeout, timer: time.NewTimer(timeout)}
		s.timer.Stop()
		done := make(chan error, 1)
		go func() { done <- h(srv, s) }()
		for {
			select {
			case err := <-done:
				s.timer.Stop()
				return err
			case <-s.timer.C:
				if s.expire() {
					log.LogAttrs(ss.Context(), slog.LevelInfo, "stream closed: idle", slog.String("method", info.FullMethod),
						slog.String("client", IdentityFrom(ss.Context()).Name), slog.Duration("idle_timeout", timeout))
					return s.idleError()
				}
			case <-ss.Context().Done():
				// The handler returns once RecvMsg or SendMsg sees the
				// cancelled stream.
				return <-done
			}
		}
	}
}

// idleStream times the waits in RecvMsg.
type idleStream struct {
	grpc.ServerStream
	timeout time.Duration
	timer   *time.Timer

	mu        sync.Mutex
	recvSince time.Time // start of the current RecvMsg; zero outside it
	sending   bool      // a SendMsg is in progress
	closed    bool      // the call was ended as idle
}

func (s *idleStream) idleError() error {
	return refuse(ReasonStreamIdle, "no request message for "+s.timeout.String()+"; the stream was closed",
		map[string]string{"idle_timeout_ms": strconv.FormatInt(s.timeout.Milliseconds(), 10)})
}

// RecvMsg receives the next message, with the idle timer running while it
// waits.
func (s *idleStream) RecvMsg(m any) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.idleError()
	}
	s.recvSince = time.Now()
	s.timer.Reset(s.timeout)
	s.mu.Unlock()
	err := s.ServerStream.RecvMsg(m)
	s.mu.Lock()
	s.recvSince = time.Time{}
	s.timer.Stop()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return s.idleError()
	}
	return err
}

// SendMsg sends m unless the call was ended as idle; the call is not ended
// while a send is in progress.
func (s *idleStream) SendMsg(m any) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.idleError()
	}
	s.sending = true
	s.mu.Unlock()
	err := s.ServerStream.SendMsg(m)
	s.mu.Lock()
	s.sending = false
	s.mu.Unlock()
	return err
}

// expire reports whether the call is to be ended as idle now and marks it
// so; when the wait is not (or no longer) long enough it re-arms the timer
// for the rest.
func (s *idleStream) expire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recvSince.IsZero() {
		return false // a message arrived just before the timer fired
	}
	if s.sending {
		s.timer.Reset(s.timeout)
		return false
	}
	if waited := time.Since(s.recvSince); waited < s.timeout {
		s.timer.Reset(s.timeout - waited)
		return false
	}
	s.closed = true
	return true
}

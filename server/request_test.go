package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

// rawCodec sends and receives message bytes as they are, so a test can put
// any bytes on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tcpEnv is a server on a loopback TCP port with the demo dataset.
type tcpEnv struct {
	conn *grpc.ClientConn
	logs *syncBuffer
}

func newTCPEnv(t *testing.T, cfg Config) *tcpEnv {
	t.Helper()
	dir := t.TempDir()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	loadDemo(t, st, dir)
	cfg.Data, cfg.Engine, cfg.Logger = st, &screening.Engine{}, log
	srv := New(cfg)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.GRPC.Serve(lis)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.GRPC.Stop()
		st.Close()
	})
	return &tcpEnv{conn: conn, logs: logs}
}

// marshal encodes m and replaces every occurrence of old in the encoding
// by repl (of the same length), to make otherwise valid messages invalid.
func marshal(t *testing.T, m proto.Message, old, repl string) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if old != "" {
		if len(old) != len(repl) || !bytes.Contains(b, []byte(old)) {
			t.Fatalf("cannot replace %q by %q", old, repl)
		}
		b = bytes.ReplaceAll(b, []byte(old), []byte(repl))
	}
	return b
}

// TestMalformedRequests sends bytes that are not a valid request message
// through a real connection: each is refused INVALID_ARGUMENT with an
// ErrorInfo (INVALID_REQUEST, metadata cause), never INTERNAL, and neither
// the answer nor the log repeats the bytes sent.
func TestMalformedRequests(t *testing.T) {
	e := newTCPEnv(t, Config{})
	const secret = "Xenia Hemmelig"
	contact := &pb.Contact{Ref: "r", Name: secret, Address: "Nyvej 5, 2100 København Ø"}
	unary := &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: contact}
	chunk := &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{contact}}
	tests := []struct {
		name      string
		method    string
		stream    bool
		msg       []byte
		wantCause string // "" = accepted
	}{
		{"valid message through the raw codec", pb.ScreeningService_ScreenContact_FullMethodName, false, marshal(t, unary, "", ""), ""},
		{"garbage", pb.ScreeningService_ScreenContact_FullMethodName, false, []byte{0xff, 0xff, 0xff, 0xff}, "malformed_message"},
		{"length past the end", pb.ScreeningService_ScreenContact_FullMethodName, false, []byte{0x12, 0x7f, 0x0a, 0x01, 'r'}, "malformed_message"},
		{"truncated valid message", pb.ScreeningService_ScreenContact_FullMethodName, false, marshal(t, unary, "", "")[:20], "malformed_message"},
		{"invalid UTF-8 in the name", pb.ScreeningService_ScreenContact_FullMethodName, false, marshal(t, unary, "Xenia", "\xffenia"), "invalid_utf8"},
		{"overlong UTF-8 in the address", pb.ScreeningService_ScreenContact_FullMethodName, false, marshal(t, unary, "ø", "\xc0\xaf"), "invalid_utf8"},
		{"stream: valid chunk", pb.ScreeningService_ScreenContacts_FullMethodName, true, marshal(t, chunk, "", ""), ""},
		{"stream: garbage", pb.ScreeningService_ScreenContacts_FullMethodName, true, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "malformed_message"},
		{"stream: invalid UTF-8", pb.ScreeningService_ScreenContacts_FullMethodName, true, marshal(t, chunk, "Xenia", "Xen\xe6a"), "invalid_utf8"},
		{"health check: invalid UTF-8", healthpb.Health_Check_FullMethodName, false, marshal(t, &healthpb.HealthCheckRequest{Service: "robinscreen"}, "screen", "scr\xffen"), "invalid_utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var err error
			var out []byte
			if tt.stream {
				s, serr := e.conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, tt.method, grpc.ForceCodecV2(rawCodec{}))
				if serr != nil {
					t.Fatal(serr)
				}
				msg := tt.msg
				if err = s.SendMsg(&msg); err == nil {
					err = s.RecvMsg(&out)
				}
				s.CloseSend()
			} else {
				msg := tt.msg
				err = e.conn.Invoke(ctx, tt.method, &msg, &out, grpc.ForceCodecV2(rawCodec{}))
			}
			if tt.wantCause == "" {
				if err != nil || len(out) == 0 {
					t.Fatalf("err = %v, %d bytes answered; want an answer", err, len(out))
				}
				return
			}
			st := errorInfo(t, err, codes.InvalidArgument, ReasonInvalidRequest)
			var cause string
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					cause = info.GetMetadata()["cause"]
				}
			}
			if cause != tt.wantCause {
				t.Errorf("cause = %q, want %q (%v)", cause, tt.wantCause, err)
			}
			if strings.Contains(st.Message(), "Xen") || strings.Contains(st.Message(), "grpc:") {
				t.Errorf("message %q repeats the request or gRPC's internal text", st.Message())
			}
		})
	}
	if strings.Contains(e.logs.String(), "Xen") {
		t.Errorf("the log holds personal data:\n%s", e.logs.String())
	}
}

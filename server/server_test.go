package server

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/robinscreen/robinscreen/internal/demo"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/screening"
	"github.com/robinscreen/robinscreen/store"
)

type env struct {
	st     *store.Store
	srv    *Server
	conn   *grpc.ClientConn
	client pb.ScreeningServiceClient
	logs   *bytes.Buffer
}

// newEnv starts the server over bufconn on a fresh store, loaded with the
// demo dataset when load is set.
func newEnv(t *testing.T, load bool) *env {
	t.Helper()
	dir := t.TempDir()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st, err := store.Open(filepath.Join(dir, "data"), store.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if load {
		loadDemo(t, st, dir)
	}
	srv := New(Config{Data: st, Engine: &screening.Engine{}, Logger: log})
	lis := bufconn.Listen(1 << 20)
	go srv.GRPC.Serve(lis)
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20), grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.GRPC.Stop()
		st.Close()
	})
	return &env{st: st, srv: srv, conn: conn, client: pb.NewScreeningServiceClient(conn), logs: logs}
}

func loadDemo(t testing.TB, st *store.Store, dir string) {
	t.Helper()
	if err := demo.Load(context.Background(), st, time.Now().UTC().Truncate(24*time.Hour), false); err != nil {
		t.Fatal(err)
	}
}

var listed = &pb.Contact{Ref: "listed", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv, 2100 København Ø", Phone: "+45 11 22 33 44", Email: "soeren@example.test"}

// errorInfo asserts err has code and an ErrorInfo with reason.
func errorInfo(t *testing.T, err error, code codes.Code, reason pb.ErrorReason) *status.Status {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code {
		t.Fatalf("code = %v (%v), want %v", st.Code(), err, code)
	}
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info == nil || info.Domain != ErrorDomain || info.Reason != reason.WireName() {
		t.Fatalf("ErrorInfo = %v, want domain %s reason %s", info, ErrorDomain, reason)
	}
	return st
}

func fieldViolation(t *testing.T, st *status.Status, field string) {
	t.Helper()
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.FieldViolations {
				if v.Field == field {
					return
				}
			}
		}
	}
	t.Errorf("no BadRequest field violation for %q in %v", field, st.Details())
}

func TestScreenContact(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	resp, err := e.client.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: listed})
	if err != nil {
		t.Fatal(err)
	}
	r := resp.GetResult()
	if r.GetRef() != "listed" || r.GetDecision() != pb.Decision_DECISION_BLOCK || len(r.GetReasons()) != 1 || r.GetReasons()[0] != pb.Reason_REASON_ROBINSON_LIST {
		t.Fatalf("result = %v", r)
	}
	if len(r.GetDatasets()) == 0 || r.GetDatasets()[0].GetKind() != "robinson" || r.GetDatasets()[0].GetVersion() == "" || r.GetDatasets()[0].GetPublished() == nil {
		t.Errorf("datasets = %v", r.GetDatasets())
	}
	var m *pb.RobinsonMatch
	for _, f := range r.GetFindings() {
		if f.GetRobinson() != nil {
			m = f.GetRobinson()
		}
	}
	if m == nil || m.GetAddressKind() != pb.AddressKind_ADDRESS_KIND_CURRENT || m.GetName() != pb.NameAgreement_NAME_AGREEMENT_FULL || m.GetListLine() == 0 {
		t.Errorf("robinson finding = %v", m)
	}
}

func TestRequestErrors(t *testing.T) {
	ctx := context.Background()
	loaded, empty := newEnv(t, true), newEnv(t, false)
	tests := []struct {
		name   string
		env    *env
		call   func(c pb.ScreeningServiceClient) error
		code   codes.Code
		reason pb.ErrorReason
		field  string
	}{
		{"missing channel", loaded, func(c pb.ScreeningServiceClient) error {
			_, err := c.ScreenContact(ctx, &pb.ScreenContactRequest{Contact: listed})
			return err
		}, codes.InvalidArgument, ReasonInvalidRequest, "channel"},
		{"missing contact", loaded, func(c pb.ScreeningServiceClient) error {
			_, err := c.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST})
			return err
		}, codes.InvalidArgument, ReasonInvalidRequest, "contact"},
		{"no dataset", empty, func(c pb.ScreeningServiceClient) error {
			_, err := c.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: listed})
			return err
		}, codes.FailedPrecondition, ReasonNoDataset, ""},
		{"no dataset batch", empty, func(c pb.ScreeningServiceClient) error {
			return batch(c, &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{listed}})
		}, codes.FailedPrecondition, ReasonNoDataset, ""},
		{"empty batch", loaded, func(c pb.ScreeningServiceClient) error {
			return batch(c, &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST})
		}, codes.InvalidArgument, ReasonInvalidRequest, "contacts"},
		{"batch without channel", loaded, func(c pb.ScreeningServiceClient) error {
			return batch(c, &pb.ScreenContactsRequest{Contacts: []*pb.Contact{listed}})
		}, codes.InvalidArgument, ReasonInvalidRequest, "channel"},
		{"batch over maximum", loaded, func(c pb.ScreeningServiceClient) error {
			cs := make([]*pb.Contact, MaxBatch+1)
			for i := range cs {
				cs[i] = &pb.Contact{Ref: fmt.Sprint(i)}
			}
			return batch(c, &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: cs})
		}, codes.InvalidArgument, ReasonBatchTooLarge, "contacts"},
		{"oversized unary message", loaded, func(c pb.ScreeningServiceClient) error {
			_, err := c.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: &pb.Contact{Name: strings.Repeat("x", MaxMessageBytes+1)}})
			return err
		}, codes.ResourceExhausted, ReasonMessageTooLarge, ""},
		{"oversized stream message", loaded, func(c pb.ScreeningServiceClient) error {
			return batch(c, &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: []*pb.Contact{{Name: strings.Repeat("x", MaxMessageBytes+1)}}})
		}, codes.ResourceExhausted, ReasonMessageTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := errorInfo(t, tt.call(tt.env.client), tt.code, tt.reason)
			if tt.field != "" {
				fieldViolation(t, st, tt.field)
			}
		})
	}
}

func batch(c pb.ScreeningServiceClient, req *pb.ScreenContactsRequest) error {
	s, err := c.ScreenContacts(context.Background())
	if err != nil {
		return err
	}
	if err := s.Send(req); err != nil {
		return err
	}
	s.CloseSend()
	for {
		if _, err := s.Recv(); err != nil {
			return err
		}
	}
}

func TestScreenContactsOrderAndFindings(t *testing.T) {
	e := newEnv(t, true)
	s, err := e.client.ScreenContacts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	chunks := [][]*pb.Contact{
		{listed, {Ref: "bad-cpr", Cpr: "31-02-90-1234", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"}, {Ref: "clean", Name: "Karen Uopført", Address: "Ikkelistet Vej 3, 8000 Aarhus C"}},
		{{Ref: "protected", Cpr: demo.DemoProtected}, {Ref: "deceased", Cpr: demo.DemoDeceased, Consent: true}},
	}
	want := [][]string{
		{"listed BLOCK", "bad-cpr REVIEW", "clean ALLOW"},
		{"protected BLOCK", "deceased BLOCK"},
	}
	for _, ch := range chunks {
		if err := s.Send(&pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_POST, Contacts: ch}); err != nil {
			t.Fatal(err)
		}
	}
	s.CloseSend()
	for i := range chunks {
		resp, err := s.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range resp.GetResults() {
			got = append(got, r.GetRef()+" "+strings.TrimPrefix(r.GetDecision().String(), "DECISION_"))
		}
		if fmt.Sprint(got) != fmt.Sprint(want[i]) {
			t.Errorf("chunk %d = %v, want %v", i, got, want[i])
		}
		if i == 0 && resp.GetResults()[1].GetReasons()[0] != pb.Reason_REASON_INVALID_CPR {
			t.Errorf("invalid CPR reasons = %v", resp.GetResults()[1].GetReasons())
		}
	}
}

func TestHealthAndReflection(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	h := healthpb.NewHealthClient(e.conn)
	check := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		for _, svc := range []string{"", "robinscreen.v1.ScreeningService"} {
			resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
			if err != nil || resp.GetStatus() != want {
				t.Errorf("health %q = %v, %v; want %v", svc, resp.GetStatus(), err, want)
			}
		}
	}
	live := func(want healthpb.HealthCheckResponse_ServingStatus) {
		t.Helper()
		resp, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: LivenessService})
		if err != nil || resp.GetStatus() != want {
			t.Errorf("health %q = %v, %v; want %v", LivenessService, resp.GetStatus(), err, want)
		}
	}
	check(healthpb.HealthCheckResponse_NOT_SERVING)
	live(healthpb.HealthCheckResponse_SERVING) // alive without data
	loadDemo(t, e.st, t.TempDir())
	e.srv.RefreshHealth()
	check(healthpb.HealthCheckResponse_SERVING)
	live(healthpb.HealthCheckResponse_SERVING)

	rc, err := reflectionpb.NewServerReflectionClient(e.conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rc.Send(&reflectionpb.ServerReflectionRequest{MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{}})
	resp, err := rc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(resp.GetListServicesResponse()), "robinscreen.v1.ScreeningService") {
		t.Errorf("reflection does not list the service: %v", resp)
	}
}

// TestLogsHoldNoPersonalData screens contacts full of personal data,
// including failing requests, and searches every log line for it.
func TestLogsHoldNoPersonalData(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	contacts := []*pb.Contact{
		listed,
		{Ref: "p1", Name: "Bodil Kjærsgaard", Address: "Hemmeligvej 77, 3. th, 9000 Aalborg", Cpr: "1503821234", Phone: "+4512345678", Email: "bodil@example.test"},
		{Ref: "p2", Cpr: demo.DemoProtected, Email: "anon@example.test"},
	}
	for _, c := range contacts {
		e.client.ScreenContact(ctx, &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: c})
		e.client.ScreenContact(ctx, &pb.ScreenContactRequest{Contact: c}) // invalid: no channel
	}
	batch(e.client, &pb.ScreenContactsRequest{Channel: pb.Channel_CHANNEL_PHONE, Contacts: contacts})
	logs := e.logs.String()
	if !strings.Contains(logs, "ScreenContact") {
		t.Fatalf("expected rpc log lines, got %q", logs)
	}
	for _, c := range contacts {
		for _, v := range []string{c.Name, c.Address, c.Cpr, c.Phone, c.Email, "Testesen", "Kjærsgaard", "Hemmeligvej", "Fiktivvej"} {
			if v != "" && strings.Contains(logs, v) {
				t.Errorf("log contains personal data %q", v)
			}
		}
	}
}

// TestErrorTableCoversEveryReason fails when a reason is added to
// errors.proto without a gRPC code in the server's error table.
func TestErrorTableCoversEveryReason(t *testing.T) {
	for n, name := range pb.ErrorReason_name {
		r := pb.ErrorReason(n)
		t.Run(name, func(t *testing.T) {
			code, ok := reasonCodes[r]
			if r == pb.ErrorReason_ERROR_REASON_UNSPECIFIED {
				if ok {
					t.Fatal("the error table maps ERROR_REASON_UNSPECIFIED, which is never sent")
				}
				return
			}
			if !ok {
				t.Fatalf("%s has no gRPC code in reasonCodes (server/errors.go)", name)
			}
			st, _ := status.FromError(refuse(r, "m", nil))
			if st.Code() != code {
				t.Errorf("code = %v, want %v", st.Code(), code)
			}
			infos := 0
			for _, d := range st.Details() {
				if info, ok := d.(*errdetails.ErrorInfo); ok {
					infos++
					if info.GetReason() != r.WireName() || info.GetDomain() != ErrorDomain {
						t.Errorf("ErrorInfo = %v, want reason %s domain %s", info, r.WireName(), ErrorDomain)
					}
				}
			}
			if infos != 1 {
				t.Errorf("%d ErrorInfo details, want 1", infos)
			}
		})
	}
	for r := range reasonCodes {
		if _, ok := pb.ErrorReason_name[int32(r)]; !ok {
			t.Errorf("reasonCodes maps %d, which errors.proto does not declare", r)
		}
	}
}

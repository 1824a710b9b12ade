package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	hs := httptest.NewServer(m.Handler())
	defer hs.Close()
	resp, err := http.Get(hs.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestMetrics(t *testing.T) {
	e, m := newSecureEnv(t, secureOpts{tokens: true, metrics: true})
	conn := e.dial(t, false, nil)
	for range 3 {
		if err := callScreen(withToken(screenToken), conn); err != nil {
			t.Fatal(err)
		}
	}
	if err := callScreenStream(withToken(screenToken), conn); err != nil {
		t.Fatal(err)
	}
	callScreen(withToken(""), conn)
	callDataset(withToken(screenToken), conn)
	pb.NewScreeningServiceClient(conn).ScreenContact(withToken(screenToken), &pb.ScreenContactRequest{Contact: listed}) // invalid
	m.Dataset(context.Background(), DatasetEvent{Action: ActionRefused, Kind: "cpr", Rejected: 7, Seconds: 1.5})

	got := scrape(t, m)
	tests := []struct{ name, want string }{
		{"requests by method and code", `robinscreen_requests_total{code="OK",method="ScreeningService/ScreenContact"} 3`},
		{"failed requests", `robinscreen_requests_total{code="InvalidArgument",method="ScreeningService/ScreenContact"} 1`},
		{"stream requests", `robinscreen_requests_total{code="OK",method="ScreeningService/ScreenContacts"} 1`},
		{"latency histogram", `robinscreen_request_duration_seconds_count{method="ScreeningService/ScreenContact"} 4`},
		{"contacts by decision", `robinscreen_contacts_screened_total{decision="BLOCK",method="ScreeningService/ScreenContact"} 3`},
		{"contacts by reason", `robinscreen_contact_reasons_total{method="ScreeningService/ScreenContacts",reason="ROBINSON_LIST"} 1`},
		{"unauthenticated", `robinscreen_requests_refused_total{method="ScreeningService/ScreenContact",reason="UNAUTHENTICATED"} 1`},
		{"permission denied", `robinscreen_requests_refused_total{method="DatasetService/GetDatasetStatus",reason="PERMISSION_DENIED"} 1`},
		{"dataset records", `robinscreen_dataset_records{kind="robinson"}`},
		{"dataset age", `robinscreen_dataset_age_seconds{kind="cpr"}`},
		{"dataset stale", `robinscreen_dataset_stale{kind="robinson"} 0`},
		{"dataset version", `robinscreen_dataset_info{kind="robinson",version="`},
		{"refused loads", `robinscreen_dataset_events_total{action="load_refused",kind="cpr"} 1`},
		{"load duration", `robinscreen_dataset_load_duration_seconds_count{kind="cpr"} 1`},
		{"rejected lines", `robinscreen_dataset_rejected_lines_total{kind="cpr"} 7`},
		{"runtime", `go_goroutines`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(got, tt.want) {
				t.Errorf("metrics lack %s; have:\n%s", tt.want, grepLines(got, "robinscreen_"))
			}
		})
	}
	if strings.Contains(got, "Testesen") || strings.Contains(got, "Fiktivvej") {
		t.Error("metrics hold personal data")
	}
}

func TestShortMethod(t *testing.T) {
	for in, want := range map[string]string{
		"/robinscreen.v1.ScreeningService/ScreenContact": "ScreeningService/ScreenContact",
		"/grpc.health.v1.Health/Check":                   "Health/Check",
		"odd":                                            "odd",
	} {
		if got := shortMethod(in); got != want {
			t.Errorf("shortMethod(%q) = %q, want %q", in, got, want)
		}
	}
}

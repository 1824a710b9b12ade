package server

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// TestRequireTLSHealth: a plaintext client of a TLS listener gets the
// health service's answer when RequireTLSHealth was given one (Kubernetes'
// gRPC probes), and TLS_REQUIRED for every other call; without it, health
// is refused too.
func TestRequireTLSHealth(t *testing.T) {
	tests := []struct {
		name       string
		withHealth bool
		wantHealth codes.Code
	}{
		{name: "health served in plaintext", withHealth: true, wantHealth: codes.OK},
		{name: "health refused without it", withHealth: false, wantHealth: codes.Unavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			hs := health.NewServer()
			hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
			var r net.Listener
			if tc.withHealth {
				r = RequireTLSHealth(lis, nil, hs)
			} else {
				r = RequireTLS(lis, nil)
			}
			defer r.Close()
			conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			resp, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{})
			if status.Code(err) != tc.wantHealth {
				t.Fatalf("health check: %v, want %v", err, tc.wantHealth)
			}
			if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
				t.Fatalf("health status %v, want the health server's NOT_SERVING", resp.GetStatus())
			}
			// Anything else: TLS_REQUIRED.
			err = conn.Invoke(context.Background(), "/robinscreen.v1.ScreeningService/ScreenContact", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{})
			errorInfo(t, err, codes.Unavailable, ReasonTLSRequired)
		})
	}
}

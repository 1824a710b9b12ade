package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// BenchmarkScreenContact compares one contact screened over HTTP/JSON
// (httptest server, gateway, in-memory gRPC connection) with the same call
// over the in-memory gRPC connection alone: the difference is the gateway's
// cost (HTTP, JSON both ways).
func BenchmarkScreenContact(b *testing.B) {
	e := newEnv(b, envOpts{})
	req := &pb.ScreenContactRequest{Channel: pb.Channel_CHANNEL_POST, Contact: listed}
	body, err := protojson.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("grpc", func(b *testing.B) {
		c := pb.NewScreeningServiceClient(e.grpc)
		for b.Loop() {
			if _, err := c.ScreenContact(context.Background(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http", func(b *testing.B) {
		client := &http.Client{}
		for b.Loop() {
			resp, err := client.Post(e.url+"/v1/contacts:screen", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("HTTP %d", resp.StatusCode)
			}
		}
	})
}

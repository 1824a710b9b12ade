package clients_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"google.golang.org/grpc"

	"github.com/robinscreen/robinscreen/clients"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// Dial a server over TLS 1.3 with a bearer token, reading the same PEM
// files as the command-line tools' --ca, --cert and --key. Runnable
// examples against a demo server are in internal/clientsit.
func ExampleDial() {
	cfg, err := clients.TLSFiles{CA: "ca.pem"}.Config()
	if err != nil {
		log.Fatal(err)
	}
	c, err := clients.Dial("screening.example:443", clients.WithTLS(cfg), clients.WithBearerToken("TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	res, err := c.ScreenContact(context.Background(), pb.Channel_CHANNEL_PHONE, pb.Purpose_PURPOSE_OTHER, &pb.Contact{Ref: "crm-42", Phone: "+45 12 34 56 78"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.GetDecision())
}

// Plaintext is refused to an address that is not loopback unless asked for.
func ExampleDial_plaintext() {
	_, err := clients.Dial("10.1.2.3:50051")
	fmt.Println(errors.Is(err, clients.ErrPlaintextRefused))
	c, err := clients.Dial("127.0.0.1:50051")
	fmt.Println(err)
	c.Close()
	// Output:
	// true
	// <nil>
}

// Security gives the same policy to a program that builds its own
// connection, e.g. for DatasetService.
func ExampleSecurity_DialOptions() {
	opts, err := clients.Security{Token: "TOKEN"}.DialOptions("127.0.0.1:50051")
	if err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient("127.0.0.1:50051", opts...)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	_ = pb.NewDatasetServiceClient(conn)
}

package clientsit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"strings"

	"github.com/robinscreen/robinscreen/clients"
	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// Screen one contact. demoAddr is the address of a server started with
// `robinscreen serve --demo`, e.g. "127.0.0.1:50051".
func ExampleClient_ScreenContact() {
	c, err := clients.Dial(demoAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	res, err := c.ScreenContact(context.Background(), pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, &pb.Contact{
		Ref:     "crm-42",
		Name:    "Søren Testesen",
		Address: "Fiktivvej 12, 2. tv, 2100 København Ø",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.GetRef(), res.GetDecision(), res.GetReasons())
	// Output: crm-42 DECISION_BLOCK [REASON_ROBINSON_LIST]
}

// Screen a batch; the client cuts it into chunks and keeps the order.
func ExampleClient_ScreenContacts() {
	c, err := clients.Dial(demoAddr, clients.WithChunkSize(2))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	contacts := []*pb.Contact{
		{Ref: "1", Name: "Søren Testesen", Address: "Fiktivvej 12, 2. tv", PostalCode: "2100"},
		{Ref: "2", Name: "Karen Ukendtsen", Address: "Nyvej 3, 2100 København Ø"},
		{Ref: "3", Name: "Anna Bolette Demosen", Address: "Prøvestien 4, 8000 Aarhus C"},
	}
	results, err := c.ScreenContacts(context.Background(), pb.Channel_CHANNEL_POST, pb.Purpose_PURPOSE_OTHER, contacts)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		fmt.Println(r.GetRef(), r.GetDecision())
	}
	// Output:
	// 1 DECISION_BLOCK
	// 2 DECISION_ALLOW
	// 3 DECISION_BLOCK
}

// Stream a large call list through the client: the source yields items one
// by one, the sink gets every item with its result in input order.
func ExampleClient_ScreenStream() {
	c, err := clients.Dial(demoAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	lines := strings.Split("Søren Testesen;Fiktivvej 12, 2. tv, 2100 København Ø\nOle Nysen;Nyvej 3, 2100 København Ø", "\n")
	i := 0
	src := clients.SourceFunc(func() (clients.Item, error) {
		if i == len(lines) {
			return clients.Item{}, io.EOF
		}
		name, addr, _ := strings.Cut(lines[i], ";")
		i++
		return clients.Item{
			Channel: pb.Channel_CHANNEL_POST,
			Contact: &pb.Contact{Ref: fmt.Sprint(i), Name: name, Address: addr},
			Tag:     name,
		}, nil
	})
	p, err := c.ScreenStream(context.Background(), src, func(it clients.Item, r *pb.ScreeningResult) error {
		fmt.Println(it.Tag, r.GetDecision())
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Screened, "screened")
	// Output:
	// Søren Testesen DECISION_BLOCK
	// Ole Nysen DECISION_ALLOW
	// 2 screened
}

// Server errors are *clients.Error with the ErrorInfo reason; errors.Is
// matches the package's sentinels.
func ExampleError() {
	c, err := clients.Dial(demoAddr)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.ScreenContact(context.Background(), pb.Channel_CHANNEL_UNSPECIFIED, pb.Purpose_PURPOSE_OTHER, &pb.Contact{Name: "Ole Nysen"})
	var e *clients.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.WireReason, e.Domain, e.Violations[0].Field)
	}
	fmt.Println(errors.Is(err, clients.ErrInvalidRequest))
	// Output:
	// InvalidArgument INVALID_REQUEST robinscreen.v1 channel
	// true
}

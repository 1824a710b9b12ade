package clients

import (
	"errors"
	"strings"
	"testing"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// TestCheckProtocolError checks that a server answer that does not match
// its chunk is ErrProtocol naming the position, and that the message never
// carries the refs: they are the caller's and may be personal data.
func TestCheckProtocolError(t *testing.T) {
	// Refs shaped like personal data: a CPR number, a phone number, an email.
	sent := []string{"0101801234", "+4512345678", "ole@example.invalid"}
	tests := []struct {
		name     string
		answered []string
		wantErr  bool
		wantMsg  string // substring of the error
	}{
		{name: "match", answered: []string{"0101801234", "+4512345678", "ole@example.invalid"}},
		{name: "first ref differs", answered: []string{"1111111118", "+4512345678", "ole@example.invalid"}, wantErr: true, wantMsg: "result 0 of 3"},
		{name: "middle ref differs", answered: []string{"0101801234", "+4587654321", "ole@example.invalid"}, wantErr: true, wantMsg: "result 1 of 3"},
		{name: "swapped refs", answered: []string{"0101801234", "ole@example.invalid", "+4512345678"}, wantErr: true, wantMsg: "result 1 of 3"},
		{name: "too few results", answered: []string{"0101801234"}, wantErr: true, wantMsg: "1 results for 3 contacts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ch := &chunk{req: &pb.ScreenContactsRequest{}}
			for _, r := range sent {
				ch.req.Contacts = append(ch.req.Contacts, &pb.Contact{Ref: r})
			}
			resp := &pb.ScreenContactsResponse{}
			for _, r := range tc.answered {
				resp.Results = append(resp.Results, &pb.ScreeningResult{Ref: r})
			}
			err := check(ch, resp)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("check: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("err = %v, want ErrProtocol", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("error %q does not say %q", msg, tc.wantMsg)
			}
			for _, ref := range append(append([]string(nil), sent...), tc.answered...) {
				if strings.Contains(msg, ref) {
					t.Errorf("error %q contains the ref %q", msg, ref)
				}
			}
		})
	}
}

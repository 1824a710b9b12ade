package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// contactSet is a contact file read into memory.
type contactSet struct {
	Contacts []*pb.Contact
	// Listed counts the contacts whose expected_listed column is "true".
	Listed int
}

// readContacts reads a robingen contacts CSV (semicolon separated, with a
// header naming at least ref, name, address and postal_code; phone and
// email are read when present). With noCPR the cpr column is ignored.
func readContacts(path string, noCPR bool) (*contactSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseContacts(f, noCPR)
}

func parseContacts(r io.Reader, noCPR bool) (*contactSet, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.Comma = ';'
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("contacts: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, need := range []string{"ref", "name", "address"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("contacts: header lacks column %q", need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.Clone(rec[i])
		}
		return ""
	}
	set := &contactSet{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("contacts: %w", err)
		}
		c := &pb.Contact{Ref: get(rec, "ref"), Name: get(rec, "name"), Address: get(rec, "address"), PostalCode: get(rec, "postal_code"),
			Phone: get(rec, "phone"), Email: get(rec, "email")}
		if !noCPR {
			c.Cpr = get(rec, "cpr")
		}
		if get(rec, "expected_listed") == "true" {
			set.Listed++
		}
		set.Contacts = append(set.Contacts, c)
	}
	if len(set.Contacts) == 0 {
		return nil, errors.New("contacts: file holds no contacts")
	}
	return set, nil
}

var channels = map[string]pb.Channel{
	"phone": pb.Channel_CHANNEL_PHONE, "email": pb.Channel_CHANNEL_EMAIL,
	"sms": pb.Channel_CHANNEL_SMS, "post": pb.Channel_CHANNEL_POST,
}

var purposes = map[string]pb.Purpose{
	"": pb.Purpose_PURPOSE_UNSPECIFIED, "other": pb.Purpose_PURPOSE_OTHER, "books": pb.Purpose_PURPOSE_BOOKS,
	"periodical": pb.Purpose_PURPOSE_PERIODICAL_SUBSCRIPTION, "insurance": pb.Purpose_PURPOSE_INSURANCE,
	"rescue": pb.Purpose_PURPOSE_RESCUE_OR_PATIENT_TRANSPORT,
}

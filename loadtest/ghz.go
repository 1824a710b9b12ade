package main

import (
	"bufio"
	"errors"
	"os"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// writeGhzData writes the first n contacts as a JSON array of
// ScreenContactRequest messages, which ghz --data-file sends round robin:
// the same requests the unary mode sends.
func writeGhzData(path string, set *contactSet, n int, ch pb.Channel, pu pb.Purpose) error {
	if path == "" || n <= 0 {
		return errors.New("ghzdata: --out FILE and a positive --n are required")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("[\n")
	for i := 0; i < n && i < len(set.Contacts); i++ {
		b, err := protojson.Marshal(&pb.ScreenContactRequest{Channel: ch, Purpose: pu, Contact: set.Contacts[i]})
		if err != nil {
			f.Close()
			return err
		}
		if i > 0 {
			w.WriteString(",\n")
		}
		w.Write(b)
	}
	w.WriteString("\n]\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/robinscreen/robinscreen/internal/calllist"
)

// receiptFile is what the call-list tool writes beside its output: the
// server's signed receipt and, unsigned, how the call list was read, so
// that `robinscreen-screen receipt verify` reads it the same way. A wrong
// reading only makes verification fail; the signature covers the digests.
type receiptFile struct {
	Receipt  json.RawMessage `json:"receipt"`
	CallList callListInfo    `json:"call_list"`
}

// callListInfo is how a call list was read: the settings that decide
// which contact each row becomes.
type callListInfo struct {
	Input       string            `json:"input"`
	Output      string            `json:"output"`
	InputFormat string            `json:"input_format,omitempty"`
	Sheet       string            `json:"sheet,omitempty"`
	Encoding    string            `json:"encoding,omitempty"`
	Delimiter   string            `json:"delimiter,omitempty"`
	Columns     map[string]string `json:"columns,omitempty"`
	Channel     string            `json:"channel,omitempty"`
	Purpose     string            `json:"purpose,omitempty"`
}

// writeReceipt writes the receipt file under a temporary name, renamed
// with the outputs. A run without one receipt covering every contact sent
// (the server has no receipts, or was unavailable mid-run so that no one
// stream carried the whole list) writes none and says why in the summary;
// a receipt of an earlier run is removed, since it does not describe the
// new output. It returns the file system's errors.
func (s *screenRun) writeReceipt() error {
	s.receiptMu.Lock()
	rcs := s.receipts
	s.receiptMu.Unlock()
	switch {
	case s.screened == 0:
		s.receiptNote = "no row was screened"
	case len(rcs) == 0:
		s.receiptNote = "the server sent none (a robinscreen without receipts?)"
	case len(rcs) > 1 || rcs[0].GetContacts() != s.screened:
		s.receiptNote = fmt.Sprintf("the server was unavailable during the run, so no one receipt covers all %d rows screened; screen the list again for one", s.screened)
	}
	if s.receiptNote != "" {
		return nil // removeStaleReceipt, once the outputs have their names
	}
	rc, err := protojson.Marshal(rcs[0])
	if err != nil {
		return err
	}
	cfg := s.cfg
	info := callListInfo{
		Input: filepath.Base(cfg.input), Output: filepath.Base(s.outPath), InputFormat: cfg.inFormat,
		Sheet: s.sheet, Encoding: cfg.encoding, Delimiter: cfg.delimiter, Columns: maps.Clone(cfg.cols),
		Channel: cfg.channel, Purpose: cfg.purpose,
	}
	b, err := json.MarshalIndent(receiptFile{Receipt: rc, CallList: info}, "", "  ")
	if err != nil {
		return err
	}
	f, err := calllist.CreatePending(s.receiptPath)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Abort()
		return err
	}
	s.pendingFiles = append(s.pendingFiles, f)
	return nil
}

// removeStaleReceipt removes the receipt of an earlier run when this run,
// whose outputs have replaced that run's, wrote none: it would not
// describe them. It returns the file system's errors.
func (s *screenRun) removeStaleReceipt() error {
	if s.receiptPath == "" || s.receiptNote == "" {
		return nil
	}
	if err := os.Remove(s.receiptPath); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}

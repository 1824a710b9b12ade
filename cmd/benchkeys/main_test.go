package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/synth"
	"github.com/robinscreen/robinscreen/store"
)

// TestKeysAndInproc writes a small synthetic list and contact file, runs
// keys and inproc, and checks that every contact the engine BLOCKs shares
// a key with the list (the baselines' candidate set contains the engine's
// matches) and that the floor finds the same candidates as the key files.
func TestKeysAndInproc(t *testing.T) {
	dir := t.TempDir()
	gen := synth.NewGenerator(synth.Config{Seed: 1, Records: 2000, Published: time.Now().UTC().Truncate(24 * time.Hour)})
	list, contacts := filepath.Join(dir, "list.txt"), filepath.Join(dir, "contacts.csv")
	write := func(path string, fn func(f *os.File) error) {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	write(list, func(f *os.File) error { _, err := gen.WriteRobinson(f); return err })
	write(contacts, func(f *os.File) error { return gen.WriteContactsCSV(f, 500, 0.2, 1) })

	lk, ck := filepath.Join(dir, "list.tsv"), filepath.Join(dir, "contacts.tsv")
	var out, errb bytes.Buffer
	if err := run([]string{"keys", "--list", list, "--contacts", contacts, "--out-list", lk, "--out-contacts", ck}, &out, &errb); err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	var ko keysOut
	if err := json.Unmarshal(out.Bytes(), &ko); err != nil {
		t.Fatal(err)
	}
	if ko.ListRecords != 2000 || ko.ListKeys < 2000 || ko.Contacts != 500 || ko.ContactKeys < ko.ContactsKeyed {
		t.Fatalf("keys: %+v", ko)
	}
	listKeys := map[string]bool{}
	for _, k := range readLines(t, lk) {
		listKeys[k] = true
	}
	candidates := map[string]bool{}
	for _, l := range readLines(t, ck) {
		ref, key, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("contact key line %q has no tab", l)
		}
		if listKeys[key] {
			candidates[ref] = true
		}
	}
	if len(candidates) == 0 {
		t.Fatal("no contact shares a key with the list")
	}

	// Load the list with the store via the robinscreen loader path and
	// screen in process.
	data := filepath.Join(dir, "data")
	if err := loadForTest(data, list); err != nil {
		t.Fatal(err)
	}
	res, err := inproc(data, contacts, lk, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Contacts != 500 || res.Floor == nil || res.Floor.ListedKeyMatches != len(candidates) {
		t.Fatalf("inproc: %+v, want floor candidates %d", res, len(candidates))
	}
	block := res.Single.Decisions["BLOCK"]
	if block == 0 || block > int64(len(candidates)) || res.Cold.Decisions["BLOCK"] != block || res.Parallel.Decisions["BLOCK"] != block {
		t.Fatalf("BLOCK %d (cold %d, parallel %d), candidates %d", block, res.Cold.Decisions["BLOCK"], res.Parallel.Decisions["BLOCK"], len(candidates))
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func loadForTest(dir, list string) error {
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return err
	}
	if _, err := st.LoadRobinson(context.Background(), list, store.LoadOptions{}); err != nil {
		st.Close()
		return err
	}
	return st.Close()
}

package suppressbadger

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/suppress"
)

func hasher(t *testing.T, c string) *suppress.Hasher {
	h, err := suppress.NewHasher([]byte(strings.Repeat(c, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func entry(t *testing.T, h *suppress.Hasher, k suppress.Kind, v, scope string, r suppress.Reason) suppress.Entry {
	key, err := h.Key(k, v)
	if err != nil {
		t.Fatal(err)
	}
	return suppress.Entry{Key: key, Scope: scope, Reason: r, Source: "test", Added: time.Unix(1700000000, 0).UTC()}
}

func TestAddReopenRemove(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := hasher(t, "a")
	s, err := Open(dir, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	phone := entry(t, h, suppress.KindPhone, "12345678", "", suppress.ReasonComplaint)
	email := entry(t, h, suppress.KindEmail, "a@b.dk", "brand", suppress.ReasonBounce)
	tests := []struct {
		name    string
		entries []suppress.Entry
		want    int
	}{
		{"two new", []suppress.Entry{phone, email}, 2},
		{"again", []suppress.Entry{phone, email}, 0},
		{"duplicate in one call", []suppress.Entry{entry(t, h, suppress.KindCVR, "12345678", "", suppress.ReasonOther), entry(t, h, suppress.KindCVR, "DK12345678", "", suppress.ReasonOther)}, 1},
	}
	for _, tc := range tests {
		n, err := s.Add(ctx, tc.entries)
		if err != nil || n != tc.want {
			t.Fatalf("%s: Add = %d, %v; want %d", tc.name, n, err, tc.want)
		}
	}
	// A second add of the phone with another reason leaves the first.
	weaker := phone
	weaker.Reason = suppress.ReasonOther
	if n, _ := s.Add(ctx, []suppress.Entry{weaker}); n != 0 {
		t.Fatal("re-add counted as new")
	}
	if _, err := s.Add(ctx, []suppress.Entry{{Key: phone.Key}}); !errors.Is(err, suppress.ErrReason) {
		t.Fatalf("entry without reason: %v", err)
	}
	s.Close()
	if _, err := s.View(ctx); !errors.Is(err, suppress.ErrClosed) {
		t.Fatalf("View after Close: %v", err)
	}

	if _, err := Open(dir, hasher(t, "b"), Options{}); !errors.Is(err, suppress.ErrKeyMismatch) {
		t.Fatalf("open with another key: %v", err)
	}
	s, err = Open(dir, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set, err := s.View(ctx)
	if err != nil || set.Len() != 3 {
		t.Fatalf("after reopen: %d entries, %v", set.Len(), err)
	}
	if got := set.Entries(phone.Key); len(got) != 1 || got[0].Reason != suppress.ReasonComplaint || !got[0].Added.Equal(phone.Added) || got[0].Source != "test" {
		t.Fatalf("phone entry after reopen: %+v", got)
	}
	ok, err := s.Remove(ctx, suppress.Removal{Key: email.Key, Scope: "", By: "admin", Why: "test", At: time.Now()})
	if err != nil || ok {
		t.Fatalf("remove with the wrong scope: %v %v", ok, err)
	}
	ok, err = s.Remove(ctx, suppress.Removal{Key: email.Key, Scope: "brand", By: "admin", Why: "asked in writing", At: time.Now()})
	if err != nil || !ok {
		t.Fatalf("remove: %v %v", ok, err)
	}
	recs, err := s.Removals()
	if err != nil || len(recs) != 1 || !strings.Contains(string(recs[0]), email.Key.Pseudonym.String()) || strings.Contains(string(recs[0]), "a@b.dk") {
		t.Fatalf("removal records %q, %v", recs, err)
	}
	v := suppress.Values{Email: "A@B.dk"}
	if _, hit := set.Match(&v, "brand"); hit {
		t.Fatal("removed entry still matches")
	}
	var exported int
	if err := s.Export(ctx, func(suppress.Entry) error { exported++; return nil }); err != nil || exported != 2 {
		t.Fatalf("export %d, %v", exported, err)
	}
}

// TestTagsStored adds entries with and without tags (the latter as stored
// before tags existed), reopens the database and checks that each entry
// comes back with its tag, reason, source and time, and that every one of
// them is found by Match after the reopen.
func TestTagsStored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	h := hasher(t, "a")
	s, err := Open(dir, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tagged := func(k suppress.Kind, v, source string) suppress.Entry {
		key, tag, err := h.KeyTag(k, v)
		if err != nil {
			t.Fatal(err)
		}
		return suppress.Entry{Key: key, Reason: suppress.ReasonComplaint, Source: source, Added: time.Unix(1700000000, 0).UTC(), Tag: tag}
	}
	cases := []struct {
		name   string
		e      suppress.Entry
		values suppress.Values
	}{
		{"tagged phone", tagged(suppress.KindPhone, "12345678", "agent 7"), suppress.Values{Phone: "+45 12 34 56 78"}},
		{"tagged e-mail, empty source", tagged(suppress.KindEmail, "a@b.dk", ""), suppress.Values{Email: "A@B.DK"}},
		{"tagged CVR, source of 8 bytes", tagged(suppress.KindCVR, "12345678", "12345678"), suppress.Values{CVR: "DK 12345678"}},
		{"untagged phone", entry(t, h, suppress.KindPhone, "87654321", "", suppress.ReasonBounce), suppress.Values{Phone: "0045 87654321"}},
	}
	for _, c := range cases {
		if n, err := s.Add(ctx, []suppress.Entry{c.e}); err != nil || n != 1 {
			t.Fatalf("%s: Add = %d, %v", c.name, n, err)
		}
	}
	s.Close()
	s, err = Open(dir, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	set, err := s.View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got := set.Entries(c.e.Key)
		if len(got) != 1 || got[0] != c.e {
			t.Errorf("%s: after reopen %+v, want %+v", c.name, got, c.e)
		}
		if _, ok := set.Match(&c.values, ""); !ok {
			t.Errorf("%s: not found by Match after reopen", c.name)
		}
	}
}

// TestDecodeEntry reads values in the format before tags (no flag) and
// with a tag, and rejects a flagged value too short to hold one.
func TestDecodeEntry(t *testing.T) {
	key := entryKey(suppress.Key{Kind: suppress.KindPhone}, "scope")
	tests := []struct {
		name    string
		e       suppress.Entry
		value   []byte // nil: encodeValue(&e)
		wantErr bool
	}{
		{"without tag", suppress.Entry{Reason: suppress.ReasonOther, Source: "src", Added: time.Unix(1700000000, 0).UTC()}, nil, false},
		{"with tag", suppress.Entry{Reason: suppress.ReasonOther, Source: "src", Added: time.Unix(1700000000, 0).UTC(), Tag: 0xfedcba9876543211}, nil, false},
		{"with tag, no source", suppress.Entry{Reason: suppress.ReasonBounce, Added: time.Unix(1700000000, 0).UTC(), Tag: 3}, nil, false},
		{"flag without tag", suppress.Entry{}, []byte{byte(suppress.ReasonOther) | tagFlag, 0, 0, 0, 0, 0, 0, 0, 1, 'x'}, true},
	}
	for _, tc := range tests {
		v := tc.value
		if v == nil {
			v = encodeValue(&tc.e)
		}
		var got suppress.Entry
		var scope, source string
		err := decodeEntry(key, v, &got, &scope, &source)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%s: err %v", tc.name, err)
		}
		if err != nil {
			continue
		}
		tc.e.Key.Kind, tc.e.Scope = suppress.KindPhone, "scope"
		if got != tc.e {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.e)
		}
	}
}

// TestCloseRemovedDirectory: a directory removed under the server makes
// Badger's memtable flush fail and retry without end; Close gives up after
// closeTimeout instead of holding the process (a server asked to stop would
// otherwise never exit).
func TestCloseRemovedDirectory(t *testing.T) {
	old := closeTimeout
	closeTimeout = 2 * time.Second
	defer func() { closeTimeout = old }()
	parent := t.TempDir()
	dir := parent + "/s"
	h := hasher(t, "a")
	s, err := Open(dir, h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(context.Background(), []suppress.Entry{entry(t, h, suppress.KindPhone, "12345678", "", suppress.ReasonComplaint)}); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, ErrCloseTimeout) {
			t.Logf("Close: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not return after the directory was removed")
	}
}

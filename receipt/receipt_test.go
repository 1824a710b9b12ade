package receipt

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var published = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// batch is a small screened batch: contacts and their results.
type batch struct {
	contacts []Contact
	results  []Result
}

func testBatch() batch {
	ds := []Dataset{{Kind: "robinson", Version: "20261101-3f9a1c0e2b7d4a65", Published: published}, {Kind: "cpr", Version: "20261020-0b1c2d3e4f5a6b7c", Published: published.AddDate(0, 0, -12)}}
	return batch{
		contacts: []Contact{
			{Channel: "CHANNEL_PHONE", Purpose: "PURPOSE_OTHER", Fields: []Field{{"ref", "1"}, {"name", "Søren Testesen"}, {"address", "Fiktivvej 12, 2. tv"}, {"postal_code", "2100"}}},
			{Channel: "CHANNEL_PHONE", Purpose: "PURPOSE_OTHER", Fields: []Field{{"ref", "2"}, {"name", "Mette Hansen"}, {"cpr", "0101801230"}, {"consent", "true"}}},
			{Channel: "CHANNEL_EMAIL", Purpose: "PURPOSE_OTHER", Fields: []Field{{"ref", "3"}, {"email", "a@example.dk"}, {"existing_customer", "true"}}},
		},
		results: []Result{
			{Ref: "1", Decision: "DECISION_BLOCK", Reasons: []string{"REASON_ROBINSON_LIST"}, Datasets: ds},
			{Ref: "2", Decision: "DECISION_ALLOW", Reasons: []string{"REASON_CONSENT"}, Datasets: ds},
			{Ref: "3", Decision: "DECISION_REVIEW", Reasons: []string{"REASON_UNVERIFIABLE", "REASON_NO_CONSENT"}, Datasets: ds[:1]},
		},
	}
}

// clone deep-copies a batch so a case can change one cell.
func (b batch) clone() batch {
	var out batch
	for _, c := range b.contacts {
		c.Fields = slices.Clone(c.Fields)
		out.contacts = append(out.contacts, c)
	}
	for _, r := range b.results {
		r.Reasons = slices.Clone(r.Reasons)
		r.Datasets = slices.Clone(r.Datasets)
		out.results = append(out.results, r)
	}
	return out
}

func (b batch) digest(nonce []byte) *Builder {
	bl := NewBuilder(nonce)
	for i := range b.contacts {
		bl.Add(&b.contacts[i], &b.results[i])
	}
	return bl
}

func newSigner(t *testing.T) *Signer {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func signed(t *testing.T, s *Signer, b batch) *Receipt {
	t.Helper()
	nonce := make([]byte, NonceSize)
	rand.Read(nonce)
	r := b.digest(nonce).Receipt(time.Date(2026, 11, 23, 9, 14, 2, 510_000_000, time.UTC))
	s.Sign(r)
	return r
}

// TestVerify: a receipt verifies against its contacts and results, and
// fails after any one changed cell — of a contact, of a result or of the
// receipt itself.
func TestVerify(t *testing.T) {
	s := newSigner(t)
	other := newSigner(t)
	tests := []struct {
		name    string
		batch   func(b *batch)   // changes the contacts or results
		receipt func(r *Receipt) // changes the receipt
		key     func() ed25519.PublicKey
		wantErr error
	}{
		{name: "unchanged", wantErr: nil},
		{name: "fields in another order", batch: func(b *batch) { slices.Reverse(b.contacts[0].Fields) }, wantErr: nil},
		{name: "contact name changed", batch: func(b *batch) { b.contacts[0].Fields[1].Value = "Søren Testesen " }, wantErr: ErrContacts},
		{name: "contact address changed", batch: func(b *batch) { b.contacts[0].Fields[2].Value = "Fiktivvej 14, 2. tv" }, wantErr: ErrContacts},
		{name: "contact personal number changed", batch: func(b *batch) { b.contacts[1].Fields[2].Value = "0101801231" }, wantErr: ErrContacts},
		{name: "contact consent added", batch: func(b *batch) { b.contacts[0].Fields = append(b.contacts[0].Fields, Field{"consent", "true"}) }, wantErr: ErrContacts},
		{name: "contact field left out", batch: func(b *batch) { b.contacts[0].Fields = b.contacts[0].Fields[:3] }, wantErr: ErrContacts},
		{name: "contact channel changed", batch: func(b *batch) { b.contacts[1].Channel = "CHANNEL_POST" }, wantErr: ErrContacts},
		{name: "contact purpose changed", batch: func(b *batch) { b.contacts[1].Purpose = "PURPOSE_INSURANCE" }, wantErr: ErrContacts},
		{name: "contact suppression scope changed", batch: func(b *batch) { b.contacts[2].Scope = "brand-b" }, wantErr: ErrContacts},
		{name: "contacts swapped", batch: func(b *batch) {
			b.contacts[0], b.contacts[1] = b.contacts[1], b.contacts[0]
			b.results[0], b.results[1] = b.results[1], b.results[0]
		}, wantErr: ErrContacts},
		{name: "contact left out", batch: func(b *batch) { b.contacts, b.results = b.contacts[:2], b.results[:2] }, wantErr: ErrContacts},
		{name: "contact added", batch: func(b *batch) {
			b.contacts = append(b.contacts, b.contacts[0])
			b.results = append(b.results, b.results[0])
		}, wantErr: ErrContacts},
		{name: "decision changed", batch: func(b *batch) { b.results[0].Decision = "DECISION_ALLOW" }, wantErr: ErrResults},
		{name: "reason changed", batch: func(b *batch) { b.results[0].Reasons[0] = "REASON_ROBINSON_POSSIBLE_MATCH" }, wantErr: ErrResults},
		{name: "reason left out", batch: func(b *batch) { b.results[2].Reasons = b.results[2].Reasons[:1] }, wantErr: ErrResults},
		{name: "reasons reordered", batch: func(b *batch) { slices.Reverse(b.results[2].Reasons) }, wantErr: ErrResults},
		{name: "result reference changed", batch: func(b *batch) { b.results[1].Ref = "7" }, wantErr: ErrResults},
		{name: "result dataset version changed", batch: func(b *batch) {
			b.results[2].Datasets[0].Version = "20261101-0000000000000000"
		}, wantErr: ErrDatasets},
		{name: "results without their dataset versions", batch: func(b *batch) {
			for i := range b.results {
				b.results[i].Datasets = nil
			}
		}, wantErr: nil},
		{name: "receipt dataset version changed", receipt: func(r *Receipt) { r.Datasets[0].Version = "20261020-ffffffffffffffff" }, wantErr: ErrSignature},
		{name: "receipt dataset left out", receipt: func(r *Receipt) { r.Datasets = r.Datasets[1:] }, wantErr: ErrSignature},
		{name: "receipt count changed", receipt: func(r *Receipt) { r.Contacts++ }, wantErr: ErrSignature},
		{name: "receipt decision count changed", receipt: func(r *Receipt) { r.Decisions["DECISION_ALLOW"]++ }, wantErr: ErrSignature},
		{name: "receipt reason count changed", receipt: func(r *Receipt) { r.Reasons["REASON_ROBINSON_LIST"] = 0 }, wantErr: ErrSignature},
		{name: "receipt scope changed", receipt: func(r *Receipt) { r.Scopes[0].Purpose = "PURPOSE_BOOKS" }, wantErr: ErrSignature},
		{name: "receipt time changed", receipt: func(r *Receipt) { r.IssuedAt = r.IssuedAt.Add(-24 * time.Hour) }, wantErr: ErrSignature},
		{name: "receipt contacts digest changed", receipt: func(r *Receipt) { r.ContactsSHA256 = strings.Repeat("0", 64) }, wantErr: ErrSignature},
		{name: "receipt nonce changed", receipt: func(r *Receipt) { r.Nonce[0] ^= 1 }, wantErr: ErrSignature},
		{name: "receipt signature changed", receipt: func(r *Receipt) { r.Signature[0] ^= 1 }, wantErr: ErrSignature},
		{name: "receipt of another format", receipt: func(r *Receipt) { r.Format = "robinscreen-receipt-v0" }, wantErr: ErrFormat},
		{name: "another service's key", key: other.PublicKey, wantErr: ErrKey},
		{name: "signed by another key under this key's id", receipt: func(r *Receipt) {
			other.Sign(r)
			r.KeyID = s.KeyID()
		}, wantErr: ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := testBatch()
			r := signed(t, s, orig)
			b := orig.clone()
			if tt.batch != nil {
				tt.batch(&b)
			}
			if tt.receipt != nil {
				tt.receipt(r)
			}
			pub := s.PublicKey()
			if tt.key != nil {
				pub = tt.key()
			}
			err := Verify(pub, r, b.digest(r.Nonce))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				for _, c := range orig.contacts {
					for _, f := range c.Fields {
						if len(f.Value) > 4 && strings.Contains(err.Error(), f.Value) {
							t.Errorf("error %q holds a contact's %s", err, f.Name)
						}
					}
				}
			}
		})
	}
}

// TestReceiptContent: the counts, scopes and datasets a receipt states,
// and no contact's content anywhere in what is signed.
func TestReceiptContent(t *testing.T) {
	b := testBatch()
	r := signed(t, newSigner(t), b)
	if r.Contacts != 3 || len(r.Nonce) != NonceSize || len(r.Signature) != ed25519.SignatureSize {
		t.Errorf("contacts %d, nonce %d bytes, signature %d bytes", r.Contacts, len(r.Nonce), len(r.Signature))
	}
	wantScopes := []Scope{{"CHANNEL_EMAIL", "PURPOSE_OTHER", 1}, {"CHANNEL_PHONE", "PURPOSE_OTHER", 2}}
	if !slices.Equal(r.Scopes, wantScopes) {
		t.Errorf("scopes %v, want %v", r.Scopes, wantScopes)
	}
	if r.Decisions["DECISION_BLOCK"] != 1 || r.Decisions["DECISION_ALLOW"] != 1 || r.Decisions["DECISION_REVIEW"] != 1 || len(r.Decisions) != 3 {
		t.Errorf("decisions %v", r.Decisions)
	}
	if r.Reasons["REASON_NO_CONSENT"] != 1 || len(r.Reasons) != 4 {
		t.Errorf("reasons %v", r.Reasons)
	}
	if len(r.Datasets) != 2 || r.Datasets[0].Kind != "cpr" || r.Datasets[1].Version != "20261101-3f9a1c0e2b7d4a65" {
		t.Errorf("datasets %v", r.Datasets)
	}
	signedText := string(r.SignedBytes())
	for _, c := range b.contacts {
		for _, f := range c.Fields {
			if len(f.Value) > 1 && strings.Contains(signedText, f.Value) {
				t.Errorf("the signed text holds a contact's %s", f.Name)
			}
		}
	}
	// Two receipts of the same list cannot be linked by their digests.
	r2 := signed(t, newSigner(t), b)
	if r.ContactsSHA256 == r2.ContactsSHA256 || r.ResultsSHA256 == r2.ResultsSHA256 {
		t.Error("two receipts of the same list share a digest")
	}
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "receipt.key")
	key, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("create: created %v, %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v (%v), want 0600", fi.Mode(), err)
	}
	again, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || !again.Equal(key) {
		t.Fatalf("read back: created %v, same %v, %v", created, again.Equal(key), err)
	}
	if _, err := CreateKeyFile(path); !errors.Is(err, os.ErrExist) {
		t.Errorf("CreateKeyFile over an existing key: %v, want ErrExist", err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(path); !errors.Is(err, ErrKeyFileOpen) {
		t.Errorf("group-readable key file: %v, want ErrKeyFileOpen", err)
	}
	bad := filepath.Join(dir, "bad.key")
	if err := os.WriteFile(bad, []byte("abcd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadKeyFile(bad); err == nil {
		t.Error("a short key was read")
	}
}

func TestParsePublicKey(t *testing.T) {
	pub := newSigner(t).PublicKey()
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"PEM", MarshalPublicKey(pub), true},
		{"hex", []byte(hex.EncodeToString(pub) + "\n"), true},
		{"base64", []byte(base64.StdEncoding.EncodeToString(pub)), true},
		{"short hex", []byte(hex.EncodeToString(pub[:31])), false},
		{"private key PEM", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), false},
		{"text", []byte("not a key"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && !bytes.Equal(got, pub) {
				t.Error("another key read back")
			}
		})
	}
}

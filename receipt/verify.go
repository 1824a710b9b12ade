package receipt

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// Errors of Verify; each names the part of a receipt that does not agree.
var (
	// ErrFormat means the receipt is of another format or lacks a field
	// every receipt has.
	ErrFormat = errors.New("receipt: not a " + Format + " receipt")
	// ErrKey means the receipt names another key than the one given.
	ErrKey = errors.New("receipt: signed with another key")
	// ErrSignature means the signature does not cover the receipt as it
	// is: the receipt was changed, or not signed with the key.
	ErrSignature = errors.New("receipt: the signature does not match the receipt")
	// ErrContacts means the contacts are not the ones screened: another
	// number, or a contact (a field, the channel or the purpose) changed,
	// added, left out or moved.
	ErrContacts = errors.New("receipt: the contacts are not the ones screened")
	// ErrResults means the results are not the ones given: a reference,
	// decision or reason changed, added, left out or moved.
	ErrResults = errors.New("receipt: the results are not the ones given")
	// ErrCounts means the counts per channel and purpose, decision or
	// reason differ from the contacts and results.
	ErrCounts = errors.New("receipt: the counts do not match the contacts and results")
	// ErrDatasets means the results name other dataset versions than the
	// receipt.
	ErrDatasets = errors.New("receipt: the results name other dataset versions than the receipt")
)

// Verify checks r against the public key and against got, a Builder made
// with r's nonce (NewBuilder(r.Nonce)) that was given the contacts and
// results in order. It returns nil when r is signed by pub and describes
// exactly these contacts and results, else an error matching ErrFormat,
// ErrKey, ErrSignature, ErrContacts, ErrResults, ErrCounts or ErrDatasets
// (the first that applies, in that order). Its messages hold counts and
// names of decisions, reasons and versions, never a contact's content.
func Verify(pub ed25519.PublicKey, r *Receipt, got *Builder) error {
	if r.Format != Format || len(r.Nonce) != NonceSize || r.IssuedAt.IsZero() || r.ContactsSHA256 == "" || r.ResultsSHA256 == "" {
		return ErrFormat
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: the public key is not an Ed25519 key", ErrKey)
	}
	if r.KeyID != KeyID(pub) {
		return fmt.Errorf("%w (the receipt's key %s, the given key %s)", ErrKey, r.KeyID, KeyID(pub))
	}
	if !ed25519.Verify(pub, r.SignedBytes(), r.Signature) {
		return ErrSignature
	}
	if !slices.Equal(got.nonce, r.Nonce) {
		return fmt.Errorf("%w: digested with another nonce", ErrContacts)
	}
	want := got.Receipt(r.IssuedAt)
	if want.Contacts != r.Contacts {
		return fmt.Errorf("%w: %d contacts, the receipt says %d", ErrContacts, want.Contacts, r.Contacts)
	}
	if want.ContactsSHA256 != r.ContactsSHA256 {
		return ErrContacts
	}
	if want.ResultsSHA256 != r.ResultsSHA256 {
		return ErrResults
	}
	scopes := slices.Clone(r.Scopes)
	sortScopes(scopes)
	if !slices.Equal(want.Scopes, scopes) {
		return fmt.Errorf("%w: contacts per channel and purpose", ErrCounts)
	}
	if !maps.Equal(want.Decisions, r.Decisions) {
		return fmt.Errorf("%w: results per decision %v, the receipt says %v", ErrCounts, want.Decisions, r.Decisions)
	}
	if !maps.Equal(want.Reasons, r.Reasons) {
		return fmt.Errorf("%w: results per reason %v, the receipt says %v", ErrCounts, want.Reasons, r.Reasons)
	}
	// Results given without their dataset versions (a call list's output
	// holds decisions and reasons only) are bound by the digest alone;
	// the versions are then the signed receipt's.
	if len(want.Datasets) > 0 {
		ds := slices.Clone(r.Datasets)
		sortDatasets(ds)
		if !slices.EqualFunc(want.Datasets, ds, func(a, b Dataset) bool {
			return a.Kind == b.Kind && a.Version == b.Version && a.Published.Equal(b.Published)
		}) {
			return fmt.Errorf("%w: the results name %s, the receipt %s", ErrDatasets, versions(want.Datasets), versions(ds))
		}
	}
	return nil
}

func versions(ds []Dataset) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Kind+" "+d.Version)
	}
	return fmt.Sprint(out)
}

package receipt

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Format names the receipt layout and its canonical encoding; a receipt
// of another format is refused (ErrFormat).
const Format = "robinscreen-receipt-v1"

// NonceSize is the length of a receipt's nonce in bytes.
const NonceSize = 16

// Field is one field of a contact as it was sent: its name (the API's
// field name, e.g. "name", "postal_code") and its value as text (a
// boolean as "true"). Empty values are not fields.
type Field struct {
	Name, Value string
}

// Contact is one screened contact: the channel and purpose it was
// screened for, the suppression-list scope (brand or campaign) its request
// named, and its fields. The fields may come in any order; they are
// digested sorted by name.
type Contact struct {
	Channel, Purpose, Scope string
	Fields                  []Field
}

// Result is the result of one contact: the caller's reference, the
// decision and the reasons, in the order the service gave them, and the
// datasets consulted (compared with the receipt's, not digested).
type Result struct {
	Ref      string
	Decision string
	Reasons  []string
	Datasets []Dataset
}

// Dataset is a dataset version consulted.
type Dataset struct {
	Kind, Version string
	Published     time.Time
}

// Scope counts the contacts screened for one channel and purpose.
type Scope struct {
	Channel, Purpose string
	Contacts         int64
}

// Receipt is a signed statement that a batch of contacts got these
// results. It holds no personal data: digests and counts only.
type Receipt struct {
	Format   string
	KeyID    string // KeyID of the signing key
	IssuedAt time.Time
	Nonce    []byte // NonceSize random bytes salting both digests
	Contacts int64
	// ContactsSHA256 and ResultsSHA256 are the hex SHA-256 digests over
	// the contacts and over the results, in order (Builder).
	ContactsSHA256, ResultsSHA256 string
	Scopes                        []Scope          // sorted by channel, then purpose
	Decisions                     map[string]int64 // results per decision
	Reasons                       map[string]int64 // results per reason
	Datasets                      []Dataset        // sorted by kind, then version
	Signature                     []byte           // Ed25519 over SignedBytes
}

// Builder digests a batch, contact by contact, into an unsigned receipt.
// It is not safe for concurrent use.
type Builder struct {
	nonce     []byte
	contacts  hash.Hash
	results   hash.Hash
	n         int64
	scopes    map[[2]string]int64
	decisions map[string]int64
	reasons   map[string]int64
	datasets  map[[2]string]Dataset
	fields    []Field
	buf       []byte
}

// Domain separation of the two digests.
const (
	contactsTag = Format + " contacts\n"
	resultsTag  = Format + " results\n"
)

// NewBuilder returns a Builder whose digests are salted with nonce: a new
// random one for a new receipt (NewNonce), the receipt's own to verify it.
func NewBuilder(nonce []byte) *Builder {
	b := &Builder{
		nonce:     slices.Clone(nonce),
		contacts:  sha256.New(),
		results:   sha256.New(),
		scopes:    map[[2]string]int64{},
		decisions: map[string]int64{},
		reasons:   map[string]int64{},
		datasets:  map[[2]string]Dataset{},
	}
	b.contacts.Write([]byte(contactsTag))
	b.contacts.Write(nonce)
	b.results.Write([]byte(resultsTag))
	b.results.Write(nonce)
	return b
}

// NewNonce returns NonceSize random bytes for a new receipt. It returns
// the random source's error.
func NewNonce() ([]byte, error) {
	n := make([]byte, NonceSize)
	if _, err := rand.Read(n); err != nil {
		return nil, err
	}
	return n, nil
}

// appendString appends s with its length, so that no two sequences of
// strings encode alike.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Add digests one contact and its result, in batch order.
func (b *Builder) Add(c *Contact, r *Result) {
	b.n++
	b.scopes[[2]string{c.Channel, c.Purpose}]++
	b.fields = append(b.fields[:0], c.Fields...)
	slices.SortFunc(b.fields, func(x, y Field) int {
		if n := strings.Compare(x.Name, y.Name); n != 0 {
			return n
		}
		return strings.Compare(x.Value, y.Value)
	})
	buf := appendString(b.buf[:0], c.Channel)
	buf = appendString(buf, c.Purpose)
	buf = appendString(buf, c.Scope)
	buf = binary.AppendUvarint(buf, uint64(len(b.fields)))
	for _, f := range b.fields {
		buf = appendString(buf, f.Name)
		buf = appendString(buf, f.Value)
	}
	b.contacts.Write(buf)

	buf = appendString(buf[:0], r.Ref)
	buf = appendString(buf, r.Decision)
	buf = binary.AppendUvarint(buf, uint64(len(r.Reasons)))
	for _, x := range r.Reasons {
		buf = appendString(buf, x)
		b.reasons[x]++
	}
	b.results.Write(buf)
	b.buf = buf
	b.decisions[r.Decision]++
	for _, d := range r.Datasets {
		k := [2]string{d.Kind, d.Version}
		if _, ok := b.datasets[k]; !ok {
			d.Published = d.Published.UTC()
			b.datasets[k] = d
		}
	}
}

// Len returns the number of contacts added.
func (b *Builder) Len() int64 { return b.n }

// Receipt returns the unsigned receipt of what was added, issued at
// issued (kept to the millisecond, in UTC).
func (b *Builder) Receipt(issued time.Time) *Receipt {
	r := &Receipt{
		Format:         Format,
		IssuedAt:       issued.UTC().Truncate(time.Millisecond),
		Nonce:          slices.Clone(b.nonce),
		Contacts:       b.n,
		ContactsSHA256: hex.EncodeToString(b.contacts.Sum(nil)),
		ResultsSHA256:  hex.EncodeToString(b.results.Sum(nil)),
		Decisions:      maps.Clone(b.decisions),
		Reasons:        maps.Clone(b.reasons),
	}
	for k, n := range b.scopes {
		r.Scopes = append(r.Scopes, Scope{Channel: k[0], Purpose: k[1], Contacts: n})
	}
	sortScopes(r.Scopes)
	for _, d := range b.datasets {
		r.Datasets = append(r.Datasets, d)
	}
	sortDatasets(r.Datasets)
	return r
}

func sortScopes(s []Scope) {
	slices.SortFunc(s, func(x, y Scope) int {
		if n := strings.Compare(x.Channel, y.Channel); n != 0 {
			return n
		}
		return strings.Compare(x.Purpose, y.Purpose)
	})
}

func sortDatasets(d []Dataset) {
	slices.SortFunc(d, func(x, y Dataset) int {
		if n := strings.Compare(x.Kind, y.Kind); n != 0 {
			return n
		}
		return strings.Compare(x.Version, y.Version)
	})
}

// SignedBytes returns the canonical text the signature covers: every
// field but the signature, one per line, strings quoted, lists and counts
// sorted. A receipt's JSON or protobuf form may order things as it likes;
// this text is what is signed and verified.
func (r *Receipt) SignedBytes() []byte {
	var b strings.Builder
	q := strconv.Quote
	fmt.Fprintf(&b, "format %s\n", q(r.Format))
	fmt.Fprintf(&b, "key_id %s\n", q(r.KeyID))
	fmt.Fprintf(&b, "issued_at %s\n", r.IssuedAt.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&b, "nonce %s\n", hex.EncodeToString(r.Nonce))
	fmt.Fprintf(&b, "contacts %d\n", r.Contacts)
	fmt.Fprintf(&b, "contacts_sha256 %s\n", q(r.ContactsSHA256))
	fmt.Fprintf(&b, "results_sha256 %s\n", q(r.ResultsSHA256))
	scopes := slices.Clone(r.Scopes)
	sortScopes(scopes)
	for _, s := range scopes {
		fmt.Fprintf(&b, "scope %s %s %d\n", q(s.Channel), q(s.Purpose), s.Contacts)
	}
	for _, k := range slices.Sorted(maps.Keys(r.Decisions)) {
		fmt.Fprintf(&b, "decision %s %d\n", q(k), r.Decisions[k])
	}
	for _, k := range slices.Sorted(maps.Keys(r.Reasons)) {
		fmt.Fprintf(&b, "reason %s %d\n", q(k), r.Reasons[k])
	}
	ds := slices.Clone(r.Datasets)
	sortDatasets(ds)
	for _, d := range ds {
		fmt.Fprintf(&b, "dataset %s %s %s\n", q(d.Kind), q(d.Version), d.Published.UTC().Format(time.RFC3339))
	}
	return []byte(b.String())
}

// KeyID returns the identifier of a public key: the first 16 hex digits
// of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Signer signs receipts with the service's Ed25519 key. It is safe for
// concurrent use.
type Signer struct {
	key ed25519.PrivateKey
	pub ed25519.PublicKey
	id  string
}

// NewSigner returns a Signer for key; it returns an error when key is not
// an Ed25519 private key.
func NewSigner(key ed25519.PrivateKey) (*Signer, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("receipt: not an Ed25519 private key")
	}
	pub := key.Public().(ed25519.PublicKey)
	return &Signer{key: slices.Clone(key), pub: pub, id: KeyID(pub)}, nil
}

// PublicKey returns the public key receipts are verified with.
func (s *Signer) PublicKey() ed25519.PublicKey { return slices.Clone(s.pub) }

// KeyID returns the public key's identifier (KeyID).
func (s *Signer) KeyID() string { return s.id }

// Sign sets r's format and key identifier and signs it.
func (s *Signer) Sign(r *Receipt) {
	r.Format, r.KeyID = Format, s.id
	r.Signature = ed25519.Sign(s.key, r.SignedBytes())
}

package suppress

import (
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"time"
)

// Kind is what an entry's value is.
type Kind uint8

// Kinds of value. The numbers are stored: never renumber them.
const (
	KindUnspecified Kind = 0
	KindPhone       Kind = 1
	KindEmail       Kind = 2
	KindCPR         Kind = 3
	KindCVR         Kind = 4
)

// Kinds lists the valid kinds in order.
var Kinds = [...]Kind{KindPhone, KindEmail, KindCPR, KindCVR}

// String returns "phone", "email", "cpr", "cvr" or "unspecified".
func (k Kind) String() string {
	switch k {
	case KindPhone:
		return "phone"
	case KindEmail:
		return "email"
	case KindCPR:
		return "cpr"
	case KindCVR:
		return "cvr"
	}
	return "unspecified"
}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool { return k >= KindPhone && k <= KindCVR }

// ParseKind reads a kind name as String writes it (case-insensitive); it
// returns ErrKind for anything else.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if strings.EqualFold(strings.TrimSpace(s), k.String()) {
			return k, nil
		}
	}
	return KindUnspecified, ErrKind
}

// Reason is why an entry was added.
type Reason uint8

// Reasons (screening-rules.md section 6). The numbers are stored: never
// renumber them.
const (
	ReasonUnspecified Reason = 0
	ReasonRequested   Reason = 1
	ReasonComplaint   Reason = 2
	ReasonBounce      Reason = 3
	ReasonOther       Reason = 4
)

// String returns "REQUESTED", "COMPLAINT", "BOUNCE", "OTHER" or
// "UNSPECIFIED".
func (r Reason) String() string {
	switch r {
	case ReasonRequested:
		return "REQUESTED"
	case ReasonComplaint:
		return "COMPLAINT"
	case ReasonBounce:
		return "BOUNCE"
	case ReasonOther:
		return "OTHER"
	}
	return "UNSPECIFIED"
}

// Valid reports whether r is one of the four named reasons.
func (r Reason) Valid() bool { return r >= ReasonRequested && r <= ReasonOther }

// ParseReason reads a reason name (English as String writes it, or the
// Danish words an import file may use: "anmodet", "klage", "afvist",
// "andet"); empty means ReasonRequested. It returns ErrReason otherwise.
func ParseReason(s string) (Reason, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "requested", "request", "anmodet", "anmodning", "frabedt":
		return ReasonRequested, nil
	case "complaint", "klage":
		return ReasonComplaint, nil
	case "bounce", "bounced", "afvist", "returneret":
		return ReasonBounce, nil
	case "other", "andet", "anden":
		return ReasonOther, nil
	}
	return ReasonUnspecified, ErrReason
}

// PseudonymSize is the length of a pseudonym in bytes.
const PseudonymSize = 32

// Pseudonym is the keyed HMAC-SHA256 of a normalised value (see Hasher).
type Pseudonym [PseudonymSize]byte

// String returns the pseudonym in lower-case hex.
func (p Pseudonym) String() string { return hex.EncodeToString(p[:]) }

// ParsePseudonym reads 64 hex digits; it returns ErrPseudonym otherwise.
func ParsePseudonym(s string) (Pseudonym, error) {
	var p Pseudonym
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != PseudonymSize {
		return p, ErrPseudonym
	}
	copy(p[:], b)
	return p, nil
}

// Key names what an entry suppresses: the kind and the pseudonym of the
// normalised value.
type Key struct {
	Kind      Kind
	Pseudonym Pseudonym
}

// MaxTextLen is the longest source or scope accepted, in bytes.
const MaxTextLen = 200

// Entry is one suppression. It holds no value in clear.
type Entry struct {
	Key Key
	// Scope is a brand or campaign; empty applies to every scope.
	Scope  string
	Reason Reason
	// Source says who or what added the entry (an agent, a system, an
	// import file's name).
	Source string
	// Added is when the entry was added (UTC, second precision when
	// stored).
	Added time.Time
	// Tag is the value's tag (Hasher.KeyTag), or zero when unknown: an
	// entry added by pseudonym, or stored before tags existed. Screening
	// computes the HMAC of every value of a kind that has an entry without
	// a tag (exact, but slower); see Set.Match.
	Tag Tag
}

// Check returns ErrKind, ErrReason or ErrText when e cannot be stored.
func (e *Entry) Check() error {
	switch {
	case !e.Key.Kind.Valid():
		return ErrKind
	case !e.Reason.Valid():
		return ErrReason
	case len(e.Scope) > MaxTextLen || len(e.Source) > MaxTextLen:
		return ErrText
	}
	return nil
}

// Removal records who removed an entry and why, for the audit trail.
type Removal struct {
	Key   Key
	Scope string
	// By is the caller's identity (a token name or certificate name).
	By string
	// Why is the operator's reason; free text without personal data.
	Why string
	At  time.Time
}

// Errors.
var (
	// ErrInvalid means a value cannot be normalised (see Normalize); the
	// message never contains the value.
	ErrInvalid = errors.New("suppress: value cannot be read")
	// ErrKind means the kind is missing or unknown.
	ErrKind = errors.New("suppress: kind missing or unknown (phone, email, cpr or cvr)")
	// ErrReason means the reason is not REQUESTED, COMPLAINT, BOUNCE or OTHER.
	ErrReason = errors.New("suppress: reason not one of REQUESTED, COMPLAINT, BOUNCE, OTHER")
	// ErrText means a source or scope is longer than MaxTextLen.
	ErrText = errors.New("suppress: source or scope longer than 200 bytes")
	// ErrPseudonym means a pseudonym is not 64 hex digits.
	ErrPseudonym = errors.New("suppress: pseudonym is not 64 hex digits")
	// ErrUnavailable means the list's storage cannot be reached: nothing
	// may be cleared until it can.
	ErrUnavailable = errors.New("suppress: the suppression list cannot be reached")
	// ErrKeyMismatch means the pseudonym key is not the one the stored
	// list was written with: every lookup would miss.
	ErrKeyMismatch = errors.New("suppress: the pseudonym key does not match the stored suppression list")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("suppress: store closed")
)

// Store keeps the list durably and hands out a current in-memory view for
// screening. Implementations are safe for concurrent use.
type Store interface {
	// Add stores the entries, each checked with Entry.Check. An entry whose
	// key and scope are already stored is left as it is: adding never
	// changes or weakens an entry. Add returns once every new entry is on
	// durable storage, with the number of entries new to the list; it
	// returns the Check errors, ErrUnavailable (wrapped) when the storage
	// cannot be written, and ErrClosed.
	Add(ctx context.Context, entries []Entry) (added int, err error)
	// Remove deletes the entry with r.Key and r.Scope and records r in the
	// store's removal log, in one durable step. It reports whether such an
	// entry existed; it returns ErrUnavailable (wrapped) and ErrClosed.
	Remove(ctx context.Context, r Removal) (bool, error)
	// View returns the list as it is now: every entry whose Add returned
	// before View was called, on any replica sharing the storage, is in
	// it. It returns ErrUnavailable (wrapped) when that cannot be
	// guaranteed, and ErrClosed.
	View(ctx context.Context) (*Set, error)
	// Export calls fn for every entry, in no particular order, stopping at
	// fn's first error, which it returns; it also returns the errors of
	// View.
	Export(ctx context.Context, fn func(Entry) error) error
	// Hasher returns the Hasher whose pseudonyms the store holds.
	Hasher() *Hasher
	// Close releases the storage.
	Close() error
}

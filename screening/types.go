package screening

import (
	"time"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/cvr"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/suppress"
)

// Channel is the way a contact would be approached.
type Channel uint8

// Channels.
const (
	ChannelUnspecified Channel = iota
	ChannelPhone
	ChannelEmail
	ChannelSMS
	ChannelPost
)

// Purpose is what a phone call is about.
type Purpose uint8

// Purposes. PurposeUnspecified counts as PurposeOther.
const (
	PurposeUnspecified Purpose = iota
	PurposeOther
	PurposeBooks
	PurposePeriodicalSubscription
	PurposeInsurance
	PurposeRescueOrPatientTransport
)

// exempt reports whether a phone call for p may be made without consent
// (books, periodicals, insurance, rescue or patient transport).
func (p Purpose) exempt() bool {
	return p >= PurposeBooks && p <= PurposeRescueOrPatientTransport
}

// Decision is the outcome for one contact. Higher values are stronger:
// BLOCK > REVIEW > ALLOW.
type Decision uint8

// Decisions.
const (
	DecisionUnspecified Decision = iota
	Allow
	Review
	Block
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "ALLOW"
	case Review:
		return "REVIEW"
	case Block:
		return "BLOCK"
	}
	return "UNSPECIFIED"
}

// Reason is one entry of the compact reason list.
type Reason uint8

// Reasons, as in docs/api.md section 1.3.
const (
	ReasonUnspecified Reason = iota
	ReasonRobinsonList
	ReasonRobinsonPossibleMatch
	ReasonCPRMarketingProtection
	ReasonDeceased
	ReasonNoConsent
	ReasonConsent
	ReasonInvalidCPR
	ReasonUnverifiable
	ReasonOptedOut
	ReasonCVRAdvertisingProtection
	ReasonStaleData
	// ReasonInvalidCVR: a business contact's CVR number is not 8 digits
	// with a valid modulus-11 check digit.
	ReasonInvalidCVR
)

var reasonNames = [...]string{
	ReasonUnspecified:              "UNSPECIFIED",
	ReasonRobinsonList:             "ROBINSON_LIST",
	ReasonRobinsonPossibleMatch:    "ROBINSON_POSSIBLE_MATCH",
	ReasonCPRMarketingProtection:   "CPR_MARKETING_PROTECTION",
	ReasonDeceased:                 "DECEASED",
	ReasonNoConsent:                "NO_CONSENT",
	ReasonConsent:                  "CONSENT",
	ReasonInvalidCPR:               "INVALID_CPR",
	ReasonUnverifiable:             "UNVERIFIABLE",
	ReasonOptedOut:                 "OPTED_OUT",
	ReasonCVRAdvertisingProtection: "CVR_ADVERTISING_PROTECTION",
	ReasonStaleData:                "STALE_DATA",
	ReasonInvalidCVR:               "INVALID_CVR",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "UNKNOWN"
}

// Source is where a finding comes from.
type Source uint8

// Sources.
const (
	SourceUnspecified Source = iota
	SourceRequest
	SourceRobinson
	SourceCPR
	SourceCVR
	// SourceSuppression is the sender's suppression list kept by the
	// service (screening-rules.md section 6).
	SourceSuppression
)

// Contact is one person or business to screen. It is personal data: never
// log it.
type Contact struct {
	Ref        string
	Name       string
	Address    string
	PostalCode string
	CPR        string
	CVR        string
	// PNumber is the CVR production unit (P-number) of a business
	// contact, optional.
	PNumber          string
	Phone            string
	Email            string
	Consent          bool
	ExistingCustomer bool
	OptedOut         bool
	// Scope is the brand or campaign the contact is screened for:
	// suppression entries of another scope do not apply. Empty holds the
	// contact to every entry.
	Scope string
}

// Finding is one observation behind a decision.
type Finding struct {
	Source Source
	Reason Reason // ReasonUnspecified for purely informational findings
	// Decision is what this finding alone implies; DecisionUnspecified for
	// a purely informational finding.
	Decision Decision
	// Detail is a short explanation without personal data.
	Detail string
	// Dataset is the version consulted, if any.
	Dataset string
	// Robinson is set on Robinson findings with a candidate record.
	Robinson *robinson.Outcome
}

// DatasetRef names a dataset consulted for a result.
type DatasetRef struct {
	Kind      string
	Version   string
	Published time.Time
	Stale     bool
}

// Result is the decision for one contact.
type Result struct {
	Ref      string
	Decision Decision
	Reasons  []Reason
	Findings []Finding
	Datasets []DatasetRef
}

// Dataset kinds.
const (
	KindRobinson = "robinson"
	KindCPR      = "cpr"
	// KindStreets is the CPR road register (data-formats.md section 5).
	KindStreets = "streets"
	// KindCVR is the CVR advertising-protection data (data-formats.md
	// section 6).
	KindCVR = "cvr"
)

// DatasetInfo describes a loaded dataset version.
type DatasetInfo struct {
	Kind    string
	Version string
	// Published is the publication date (Robinson) or production date (CPR).
	Published time.Time
	// MaxAge is how long after Published the dataset may be used for an
	// ALLOW; zero means the kind's default.
	MaxAge time.Duration
}

// Default maximum ages (docs/screening-rules.md rule 2.7).
const (
	DefaultRobinsonMaxAge = 100 * 24 * time.Hour
	DefaultCPRMaxAge      = 100 * 24 * time.Hour
	// DefaultStreetsMaxAge is how long after its date (the 000 header's,
	// the operator's or the load day) a road register is fresh.
	DefaultStreetsMaxAge = 100 * 24 * time.Hour
	// DefaultCVRMaxAge is how long after its extraction date CVR data may
	// clear a business contact.
	DefaultCVRMaxAge = 31 * 24 * time.Hour
)

// DefaultMaxAge returns the default maximum age of a dataset kind.
func DefaultMaxAge(kind string) time.Duration {
	switch kind {
	case KindCPR:
		return DefaultCPRMaxAge
	case KindStreets:
		return DefaultStreetsMaxAge
	case KindCVR:
		return DefaultCVRMaxAge
	}
	return DefaultRobinsonMaxAge
}

// Stale reports whether the dataset is older than its maximum age at now.
func (i DatasetInfo) Stale(now time.Time) bool {
	max := i.MaxAge
	if max <= 0 {
		max = DefaultMaxAge(i.Kind)
	}
	// A date in the future is an error in the data: never fresh.
	return now.Sub(i.Published) > max || i.Published.After(now.Add(24*time.Hour))
}

// RobinsonList is a loaded Robinson list.
type RobinsonList interface {
	Info() DatasetInfo
	// Candidates calls fn for the records stored under the blocking key
	// (robinson.AppendKey) that may match the contact of probe: it may
	// leave out a record only when probe.MayMatchExact rules it out, so
	// that robinson.Matcher.Match would give NoMatch for it. A nil probe
	// asks for every record. The record is only valid during the call. It
	// returns storage errors; a key without records is not an error.
	Candidates(key []byte, probe *robinson.Probe, fn func(*robinson.Record)) error
	// NearCandidates calls fn for the records at the probe's address whose
	// surname word is one edit from the contact's (probe.NearSurname) and
	// equal to none of its words, leaving out only records that
	// probe.MayMatchNear or probe.MayMatchExact rule out. It returns
	// storage errors.
	NearCandidates(probe *robinson.Probe, fn func(*robinson.Record)) error
	// FamilyTypes returns the list's family-type given names
	// (screening-rules.md section 3.4); nil when it has none.
	FamilyTypes() robinson.FamilyTypes
}

// CPRRegister is a loaded CPR extract.
type CPRRegister interface {
	Info() DatasetInfo
	// Lookup returns what the extract holds for the number and whether it
	// holds anything. It returns storage errors only.
	Lookup(n cprcheck.Number) (cprcheck.Person, bool, error)
}

// StreetRegister is a loaded CPR road register (data-formats.md section
// 5): the names of a list record's road and the roads at a contact's
// address (screening-rules.md section 3.3). It is held in memory, safe for
// concurrent use, and never fails.
type StreetRegister interface {
	Info() DatasetInfo
	robinson.Roads
}

// CVRRegister is loaded CVR advertising-protection data (data-formats.md
// section 6).
type CVRRegister interface {
	Info() DatasetInfo
	// Company returns what the data holds for a company and whether it
	// holds it. It returns storage errors only.
	Company(n cvr.Number) (CVRCompany, bool, error)
	// Unit returns what the data holds for a production unit and whether
	// it holds it. It returns storage errors only.
	Unit(p cvr.PNumber) (CVRUnit, bool, error)
}

// CVRCompany is a company of the loaded CVR data.
type CVRCompany struct {
	Protected bool // reklamebeskyttet
}

// CVRUnit is a production unit of the loaded CVR data.
type CVRUnit struct {
	Protected bool // reklamebeskyttet
	// Owners are the companies the data relates the unit to; empty when
	// the data does not say (a CSV of P-numbers).
	Owners []cvr.Number
}

// Snapshot is one consistent view of the loaded datasets. CPR may be nil
// when no CPR extract is loaded, Streets when no road register is loaded;
// Robinson nil means nothing can be screened.
// A Snapshot may hold per-reader state (a store transaction): unless its
// provider says otherwise, use it from one goroutine at a time.
type Snapshot struct {
	Robinson RobinsonList
	CPR      CPRRegister
	// Streets is the CPR road register; nil when none is loaded.
	Streets StreetRegister
	// Suppressions is the sender's suppression list, current for this
	// request; nil when the service keeps none.
	Suppressions SuppressionList
	// CVR is the CVR advertising-protection data; nil when none is
	// loaded (every business contact on PHONE or POST is then REVIEW).
	CVR CVRRegister
}

// SuppressionList is the sender's suppression list (screening-rules.md
// section 6), as read for one request. *suppress.Set implements it.
type SuppressionList interface {
	// Match returns an entry in force for one of the values in scope.
	Match(v *suppress.Values, scope string) (suppress.Entry, bool)
}

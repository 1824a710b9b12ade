package server

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

// fromContact fills dst from the request's contact and scope.
//
//go:noinline (its temporary stays off the stack of a screening)
func fromContact(c *pb.Contact, scope string, dst *screening.Contact) {
	*dst = screening.Contact{Scope: scope,
		Ref: c.GetRef(), Name: c.GetName(), Address: c.GetAddress(), PostalCode: c.GetPostalCode(),
		CPR: c.GetCpr(), CVR: c.GetCvr(), PNumber: c.GetPNumber(), Phone: c.GetPhone(), Email: c.GetEmail(),
		Consent: c.GetConsent(), ExistingCustomer: c.GetExistingCustomer(), OptedOut: c.GetOptedOut(),
	}
}

func fromChannel(c pb.Channel) screening.Channel {
	switch c {
	case pb.Channel_CHANNEL_PHONE:
		return screening.ChannelPhone
	case pb.Channel_CHANNEL_EMAIL:
		return screening.ChannelEmail
	case pb.Channel_CHANNEL_SMS:
		return screening.ChannelSMS
	case pb.Channel_CHANNEL_POST:
		return screening.ChannelPost
	}
	return screening.ChannelUnspecified
}

func fromPurpose(p pb.Purpose) screening.Purpose {
	switch p {
	case pb.Purpose_PURPOSE_OTHER:
		return screening.PurposeOther
	case pb.Purpose_PURPOSE_BOOKS:
		return screening.PurposeBooks
	case pb.Purpose_PURPOSE_PERIODICAL_SUBSCRIPTION:
		return screening.PurposePeriodicalSubscription
	case pb.Purpose_PURPOSE_INSURANCE:
		return screening.PurposeInsurance
	case pb.Purpose_PURPOSE_RESCUE_OR_PATIENT_TRANSPORT:
		return screening.PurposeRescueOrPatientTransport
	}
	return screening.PurposeUnspecified
}

var decisions = [...]pb.Decision{
	screening.DecisionUnspecified: pb.Decision_DECISION_UNSPECIFIED,
	screening.Allow:               pb.Decision_DECISION_ALLOW,
	screening.Review:              pb.Decision_DECISION_REVIEW,
	screening.Block:               pb.Decision_DECISION_BLOCK,
}

var reasons = [...]pb.Reason{
	screening.ReasonUnspecified:              pb.Reason_REASON_UNSPECIFIED,
	screening.ReasonRobinsonList:             pb.Reason_REASON_ROBINSON_LIST,
	screening.ReasonRobinsonPossibleMatch:    pb.Reason_REASON_ROBINSON_POSSIBLE_MATCH,
	screening.ReasonCPRMarketingProtection:   pb.Reason_REASON_CPR_MARKETING_PROTECTION,
	screening.ReasonDeceased:                 pb.Reason_REASON_DECEASED,
	screening.ReasonNoConsent:                pb.Reason_REASON_NO_CONSENT,
	screening.ReasonConsent:                  pb.Reason_REASON_CONSENT,
	screening.ReasonInvalidCPR:               pb.Reason_REASON_INVALID_CPR,
	screening.ReasonUnverifiable:             pb.Reason_REASON_UNVERIFIABLE,
	screening.ReasonOptedOut:                 pb.Reason_REASON_OPTED_OUT,
	screening.ReasonCVRAdvertisingProtection: pb.Reason_REASON_CVR_ADVERTISING_PROTECTION,
	screening.ReasonStaleData:                pb.Reason_REASON_STALE_DATA,
	screening.ReasonInvalidCVR:               pb.Reason_REASON_INVALID_CVR,
}

var sources = [...]pb.Source{
	screening.SourceUnspecified: pb.Source_SOURCE_UNSPECIFIED,
	screening.SourceRequest:     pb.Source_SOURCE_REQUEST,
	screening.SourceRobinson:    pb.Source_SOURCE_ROBINSON_LIST,
	screening.SourceCPR:         pb.Source_SOURCE_CPR,
	screening.SourceCVR:         pb.Source_SOURCE_CVR,
	screening.SourceSuppression: pb.Source_SOURCE_SUPPRESSION_LIST,
}

var nameAgreements = [...]pb.NameAgreement{
	robinson.NameNone:    pb.NameAgreement_NAME_AGREEMENT_UNSPECIFIED,
	robinson.NameNear:    pb.NameAgreement_NAME_AGREEMENT_NEAR,
	robinson.NameInitial: pb.NameAgreement_NAME_AGREEMENT_INITIAL,
	robinson.NameFull:    pb.NameAgreement_NAME_AGREEMENT_FULL,
}

var streetAgreements = [...]pb.StreetAgreement{
	robinson.StreetNone:        pb.StreetAgreement_STREET_AGREEMENT_UNSPECIFIED,
	robinson.StreetEqual:       pb.StreetAgreement_STREET_AGREEMENT_EQUAL,
	robinson.StreetCompact:     pb.StreetAgreement_STREET_AGREEMENT_COMPACT,
	robinson.StreetAbbreviated: pb.StreetAgreement_STREET_AGREEMENT_ABBREVIATED,
	robinson.StreetRegister:    pb.StreetAgreement_STREET_AGREEMENT_REGISTER,
	robinson.StreetNear:        pb.StreetAgreement_STREET_AGREEMENT_NEAR,
}

var unitAgreements = [...]pb.UnitAgreement{
	robinson.UnitEqual:    pb.UnitAgreement_UNIT_AGREEMENT_EQUAL,
	robinson.UnitMissing:  pb.UnitAgreement_UNIT_AGREEMENT_MISSING,
	robinson.UnitConflict: pb.UnitAgreement_UNIT_AGREEMENT_CONFLICT,
}

// converter turns the results of one request message into protobuf
// messages. It allocates the result messages and slices in arenas and
// shares identical dataset references and constant findings between the
// results: the messages are only marshalled and read, never changed,
// after conversion. A ScreenContacts stream keeps one converter for all
// its messages (reset): a response is marshalled by SendMsg before it
// returns, so the next message may reuse its arenas.
type converter struct {
	results  []pb.ScreeningResult
	out      []*pb.ScreeningResult
	findings []*pb.Finding
	reasons  []pb.Reason
	shared   map[sharedFinding]*pb.Finding
	datasets map[datasetsKey][]*pb.DatasetRef
	// The last dataset references looked up: most contacts of a message
	// consulted the same versions, and comparing spares hashing the key.
	lastDatasets     datasetsKey
	lastDatasetsRefs []*pb.DatasetRef
}

// maxShared bounds the shared findings and dataset references a converter
// keeps from one message to the next.
const maxShared = 256

// sharedFinding identifies a finding without a Robinson outcome.
type sharedFinding struct {
	source   screening.Source
	reason   screening.Reason
	decision screening.Decision
	detail   string
	dataset  string
}

type datasetsKey struct {
	n int
	d [2]screening.DatasetRef
}

func newConverter(n int) *converter {
	c := &converter{}
	c.reset(n)
	return c
}

// reset readies c for a message of n results, reusing its arenas: the
// results it returned before must no longer be used.
func (c *converter) reset(n int) {
	if cap(c.results) < n {
		c.results = make([]pb.ScreeningResult, n)
		c.out = make([]*pb.ScreeningResult, n)
	} else {
		c.results = c.results[:n]
		clear(c.results)
		c.out = c.out[:n]
	}
	clear(c.findings)
	if cap(c.findings) < 2*n {
		c.findings = make([]*pb.Finding, 0, 2*n)
	}
	c.findings = c.findings[:0]
	if cap(c.reasons) < n {
		c.reasons = make([]pb.Reason, 0, n)
	}
	c.reasons = c.reasons[:0]
	if c.shared == nil || len(c.shared) > maxShared {
		c.shared = map[sharedFinding]*pb.Finding{}
	}
	if c.datasets == nil || len(c.datasets) > maxShared {
		c.datasets = map[datasetsKey][]*pb.DatasetRef{}
	}
}

// toResult converts a single result.
func toResult(r *screening.Result) *pb.ScreeningResult {
	return newConverter(1).convert(0, r)
}

// convert fills result slot i from r and returns it.
func (c *converter) convert(i int, r *screening.Result) *pb.ScreeningResult {
	out := &c.results[i]
	out.Ref, out.Decision = r.Ref, decisions[r.Decision]
	if len(r.Reasons) > 0 {
		start := len(c.reasons)
		for _, x := range r.Reasons {
			c.reasons = append(c.reasons, reasons[x])
		}
		out.Reasons = c.reasons[start:len(c.reasons):len(c.reasons)]
	}
	if len(r.Findings) > 0 {
		start := len(c.findings)
		for j := range r.Findings {
			c.findings = append(c.findings, c.finding(&r.Findings[j]))
		}
		out.Findings = c.findings[start:len(c.findings):len(c.findings)]
	}
	if len(r.Datasets) > 0 {
		out.Datasets = c.datasetRefs(r.Datasets)
	}
	return out
}

func (c *converter) finding(f *screening.Finding) *pb.Finding {
	if f.Robinson == nil {
		k := sharedFinding{f.Source, f.Reason, f.Decision, f.Detail, f.Dataset}
		if pf, ok := c.shared[k]; ok {
			return pf
		}
		pf := &pb.Finding{Source: sources[f.Source], Reason: reasons[f.Reason], Decision: decisions[f.Decision], Detail: f.Detail, DatasetVersion: f.Dataset}
		c.shared[k] = pf
		return pf
	}
	o := f.Robinson
	kind := pb.AddressKind_ADDRESS_KIND_CURRENT
	if o.Previous {
		kind = pb.AddressKind_ADDRESS_KIND_PREVIOUS
	}
	return &pb.Finding{Source: sources[f.Source], Reason: reasons[f.Reason], Decision: decisions[f.Decision], Detail: f.Detail, DatasetVersion: f.Dataset,
		Robinson: &pb.RobinsonMatch{AddressKind: kind, Name: nameAgreements[o.Name], Street: streetAgreements[o.Street], Unit: unitAgreements[o.Unit], ListLine: int64(o.Line)}}
}

func (c *converter) datasetRefs(ds []screening.DatasetRef) []*pb.DatasetRef {
	if len(ds) <= 2 {
		k := datasetsKey{n: len(ds)}
		copy(k.d[:], ds)
		if c.lastDatasetsRefs != nil && k == c.lastDatasets {
			return c.lastDatasetsRefs
		}
		refs, ok := c.datasets[k]
		if !ok {
			refs = newDatasetRefs(ds)
			c.datasets[k] = refs
		}
		c.lastDatasets, c.lastDatasetsRefs = k, refs
		return refs
	}
	return newDatasetRefs(ds)
}

func newDatasetRefs(ds []screening.DatasetRef) []*pb.DatasetRef {
	refs := make([]*pb.DatasetRef, len(ds))
	for i, d := range ds {
		refs[i] = &pb.DatasetRef{Kind: d.Kind, Version: d.Version, Published: timestamppb.New(d.Published), Stale: d.Stale}
	}
	return refs
}

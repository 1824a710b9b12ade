package server

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/screening"
)

func fromContact(c *pb.Contact, dst *screening.Contact) {
	*dst = screening.Contact{
		Ref: c.GetRef(), Name: c.GetName(), Address: c.GetAddress(), PostalCode: c.GetPostalCode(),
		CPR: c.GetCpr(), CVR: c.GetCvr(), Phone: c.GetPhone(), Email: c.GetEmail(),
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
}

var sources = [...]pb.Source{
	screening.SourceUnspecified: pb.Source_SOURCE_UNSPECIFIED,
	screening.SourceRequest:     pb.Source_SOURCE_REQUEST,
	screening.SourceRobinson:    pb.Source_SOURCE_ROBINSON_LIST,
	screening.SourceCPR:         pb.Source_SOURCE_CPR,
	screening.SourceCVR:         pb.Source_SOURCE_CVR,
}

var nameAgreements = [...]pb.NameAgreement{
	robinson.NameNone:    pb.NameAgreement_NAME_AGREEMENT_UNSPECIFIED,
	robinson.NameInitial: pb.NameAgreement_NAME_AGREEMENT_INITIAL,
	robinson.NameFull:    pb.NameAgreement_NAME_AGREEMENT_FULL,
}

var streetAgreements = [...]pb.StreetAgreement{
	robinson.StreetNone:        pb.StreetAgreement_STREET_AGREEMENT_UNSPECIFIED,
	robinson.StreetEqual:       pb.StreetAgreement_STREET_AGREEMENT_EQUAL,
	robinson.StreetCompact:     pb.StreetAgreement_STREET_AGREEMENT_COMPACT,
	robinson.StreetAbbreviated: pb.StreetAgreement_STREET_AGREEMENT_ABBREVIATED,
}

var unitAgreements = [...]pb.UnitAgreement{
	robinson.UnitEqual:    pb.UnitAgreement_UNIT_AGREEMENT_EQUAL,
	robinson.UnitMissing:  pb.UnitAgreement_UNIT_AGREEMENT_MISSING,
	robinson.UnitConflict: pb.UnitAgreement_UNIT_AGREEMENT_CONFLICT,
}

func toResult(r *screening.Result) *pb.ScreeningResult {
	out := &pb.ScreeningResult{Ref: r.Ref, Decision: decisions[r.Decision]}
	if len(r.Reasons) > 0 {
		out.Reasons = make([]pb.Reason, len(r.Reasons))
		for i, x := range r.Reasons {
			out.Reasons[i] = reasons[x]
		}
	}
	if len(r.Findings) > 0 {
		out.Findings = make([]*pb.Finding, len(r.Findings))
		for i := range r.Findings {
			f := &r.Findings[i]
			pf := &pb.Finding{Source: sources[f.Source], Reason: reasons[f.Reason], Decision: decisions[f.Decision], Detail: f.Detail, DatasetVersion: f.Dataset}
			if o := f.Robinson; o != nil {
				kind := pb.AddressKind_ADDRESS_KIND_CURRENT
				if o.Previous {
					kind = pb.AddressKind_ADDRESS_KIND_PREVIOUS
				}
				pf.Robinson = &pb.RobinsonMatch{AddressKind: kind, Name: nameAgreements[o.Name], Street: streetAgreements[o.Street], Unit: unitAgreements[o.Unit], ListLine: int64(o.Line)}
			}
			out.Findings[i] = pf
		}
	}
	if len(r.Datasets) > 0 {
		out.Datasets = make([]*pb.DatasetRef, len(r.Datasets))
		for i, d := range r.Datasets {
			out.Datasets[i] = &pb.DatasetRef{Kind: d.Kind, Version: d.Version, Published: timestamppb.New(d.Published), Stale: d.Stale}
		}
	}
	return out
}

package screening

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/cvr"
)

// fakeCVR is in-memory CVR data.
type fakeCVR struct {
	info      DatasetInfo
	companies map[cvr.Number]CVRCompany
	units     map[cvr.PNumber]CVRUnit
	err       error
	lookups   int
}

func (f *fakeCVR) Info() DatasetInfo { return f.info }

func (f *fakeCVR) Company(n cvr.Number) (CVRCompany, bool, error) {
	f.lookups++
	c, ok := f.companies[n]
	return c, ok, f.err
}

func (f *fakeCVR) Unit(p cvr.PNumber) (CVRUnit, bool, error) {
	f.lookups++
	u, ok := f.units[p]
	return u, ok, f.err
}

// Valid CVR numbers (modulus 11) and P-numbers of the business tests.
const (
	cvrProtected   = "10000009"
	cvrUnprotected = "12345674"
	cvrOther       = "30498763"
	cvrAbsent      = "40000003"
	pProtected     = "1003456789" // of cvrUnprotected
	pUnprotected   = "1003456790" // of cvrUnprotected
	pOfOther       = "1003456791" // of cvrOther
	pNoOwner       = "1003456792" // from a CSV: no company known
	pAbsent        = "1999999999"
)

func newFakeCVR(published time.Time) *fakeCVR {
	return &fakeCVR{
		info: DatasetInfo{Kind: KindCVR, Version: "v1", Published: published},
		companies: map[cvr.Number]CVRCompany{
			10000009: {Protected: true},
			12345674: {},
			30498763: {},
		},
		units: map[cvr.PNumber]CVRUnit{
			1003456789: {Protected: true, Owners: []cvr.Number{12345674}},
			1003456790: {Owners: []cvr.Number{30498763, 12345674}},
			1003456791: {Owners: []cvr.Number{30498763}},
			1003456792: {},
		},
	}
}

// TestScreenBusiness covers rule 2.5 for businesses: every decision of
// section 2 step 5 with CVR data loaded, and without.
func TestScreenBusiness(t *testing.T) {
	fresh := today.AddDate(0, 0, -10)
	stale := today.AddDate(0, 0, -32)
	tests := []struct {
		name     string
		ch       Channel
		purpose  Purpose
		c        Contact
		noCVR    bool      // no CVR data loaded
		cvrDate  time.Time // extraction date; zero = fresh
		want     Decision
		reasons  []Reason
		consults bool // the result lists the CVR dataset
	}{
		{name: "protected company", ch: ChannelPhone, c: Contact{CVR: cvrProtected}, want: Block, reasons: []Reason{ReasonCVRAdvertisingProtection}, consults: true},
		{name: "protected company by post", ch: ChannelPost, c: Contact{CVR: cvrProtected, Name: "Fiktiv A/S"}, want: Block, reasons: []Reason{ReasonCVRAdvertisingProtection}, consults: true},
		{name: "protected company with an unprotected P-unit", ch: ChannelPhone, c: Contact{CVR: cvrProtected, PNumber: pNoOwner}, want: Block, reasons: []Reason{ReasonCVRAdvertisingProtection}, consults: true},
		{name: "protected P-unit of an unprotected company", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected, PNumber: pProtected}, want: Block, reasons: []Reason{ReasonCVRAdvertisingProtection}, consults: true},
		{name: "protected P-unit written with blanks", ch: ChannelPost, c: Contact{CVR: "12 34 56 74", PNumber: " 10 0345 6789 "}, want: Block, reasons: []Reason{ReasonCVRAdvertisingProtection}, consults: true},
		{name: "unprotected company", ch: ChannelPhone, purpose: PurposeOther, c: Contact{CVR: cvrUnprotected}, want: Allow, consults: true},
		{name: "unprotected company in VAT form", ch: ChannelPost, c: Contact{CVR: "DK" + cvrUnprotected}, want: Allow, consults: true},
		{name: "unprotected company and P-unit", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected, PNumber: pUnprotected}, want: Allow, consults: true},
		{name: "P-unit whose company the data does not name", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected, PNumber: pNoOwner}, want: Allow, consults: true},
		{name: "P-unit of another company", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected, PNumber: pOfOther}, want: Review, reasons: []Reason{ReasonUnverifiable}, consults: true},
		{name: "unknown P-unit of an unprotected company", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected, PNumber: pAbsent}, want: Review, reasons: []Reason{ReasonUnverifiable}, consults: true},
		{name: "P-number not 10 digits", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected, PNumber: "12345"}, want: Review, reasons: []Reason{ReasonUnverifiable}, consults: true},
		{name: "unknown company", ch: ChannelPhone, c: Contact{CVR: cvrAbsent}, want: Review, reasons: []Reason{ReasonUnverifiable}, consults: true},
		{name: "unknown company with a protected P-unit", ch: ChannelPhone, c: Contact{CVR: cvrAbsent, PNumber: pProtected}, want: Block, reasons: []Reason{ReasonUnverifiable, ReasonCVRAdvertisingProtection}, consults: true},
		{name: "invalid number: check digit", ch: ChannelPhone, c: Contact{CVR: "12345678"}, want: Review, reasons: []Reason{ReasonInvalidCVR}},
		{name: "invalid number: seven digits", ch: ChannelPost, c: Contact{CVR: "1234567"}, want: Review, reasons: []Reason{ReasonInvalidCVR}},
		{name: "invalid number: letters", ch: ChannelPost, c: Contact{CVR: "ABCDEFGH"}, want: Review, reasons: []Reason{ReasonInvalidCVR}},
		{name: "no CVR data", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected}, noCVR: true, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "no CVR data, invalid number", ch: ChannelPhone, c: Contact{CVR: "12345678"}, noCVR: true, want: Review, reasons: []Reason{ReasonInvalidCVR}},
		{name: "stale CVR data turns ALLOW into REVIEW", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected}, cvrDate: stale, want: Review, reasons: []Reason{ReasonStaleData}, consults: true},
		{name: "stale CVR data keeps BLOCK", ch: ChannelPhone, c: Contact{CVR: cvrProtected}, cvrDate: stale, want: Block, reasons: []Reason{ReasonCVRAdvertisingProtection}, consults: true},
		{name: "CVR data 31 days old is fresh", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected}, cvrDate: today.AddDate(0, 0, -31), want: Allow, consults: true},
		{name: "sole proprietor on the Robinson list", ch: ChannelPost, c: Contact{CVR: cvrUnprotected, Name: soeren, Address: soerenAddr}, want: Block, reasons: []Reason{ReasonRobinsonList}, consults: true},
		{name: "sole proprietor not listed", ch: ChannelPost, c: Contact{CVR: cvrUnprotected, Name: cleanName, Address: cleanAddr}, want: Allow, consults: true},
		{name: "consent clears a protected company", ch: ChannelPhone, c: Contact{CVR: cvrProtected, Consent: true}, want: Allow, reasons: []Reason{ReasonConsent}},
		{name: "opted out", ch: ChannelPhone, c: Contact{CVR: cvrUnprotected, OptedOut: true}, want: Block, reasons: []Reason{ReasonOptedOut}},
		{name: "e-mail to an existing customer does not consult CVR", ch: ChannelEmail, c: Contact{CVR: cvrProtected, ExistingCustomer: true}, want: Allow},
		{name: "e-mail without consent", ch: ChannelEmail, c: Contact{CVR: cvrUnprotected}, want: Block, reasons: []Reason{ReasonNoConsent}},
		{name: "a personal number makes a consumer", ch: ChannelPhone, purpose: PurposeOther, c: Contact{CVR: cvrUnprotected, CPR: cprActive}, want: Block, reasons: []Reason{ReasonNoConsent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := Snapshot{Robinson: newFakeList(t, fresh, listEntries...), CPR: newFakeCPR(t, fresh)}
			var data *fakeCVR
			if !tt.noCVR {
				pub := tt.cvrDate
				if pub.IsZero() {
					pub = fresh
				}
				data = newFakeCVR(pub)
				snap.CVR = data
			}
			e := Engine{Now: func() time.Time { return today }}
			c := tt.c
			res, err := e.Screen(snap, tt.ch, tt.purpose, &c)
			if err != nil {
				t.Fatalf("Screen: %v", err)
			}
			if res.Decision != tt.want || !slices.Equal(res.Reasons, tt.reasons) {
				t.Fatalf("got %v %v, want %v %v\nfindings: %+v", res.Decision, res.Reasons, tt.want, tt.reasons, res.Findings)
			}
			i := slices.IndexFunc(res.Datasets, func(d DatasetRef) bool { return d.Kind == KindCVR })
			if (i >= 0) != tt.consults {
				t.Fatalf("datasets %+v: CVR listed %v, want %v", res.Datasets, i >= 0, tt.consults)
			}
			if i >= 0 && (res.Datasets[i].Version != "v1" || !res.Datasets[i].Published.Equal(data.info.Published)) {
				t.Errorf("CVR dataset %+v", res.Datasets[i])
			}
			for _, f := range res.Findings {
				if f.Source == SourceCVR && f.Reason != ReasonUnspecified && f.Dataset != "v1" && !tt.noCVR {
					t.Errorf("finding %+v names no CVR version", f)
				}
			}
		})
	}
}

// TestScreenBusinessStorageError: a failed CVR read fails the request,
// never an ALLOW.
func TestScreenBusinessStorageError(t *testing.T) {
	data := newFakeCVR(today)
	data.err = errors.New("disk")
	snap := Snapshot{Robinson: newFakeList(t, today, listEntries...), CVR: data}
	e := Engine{Now: func() time.Time { return today }}
	if _, err := e.Screen(snap, ChannelPhone, PurposeOther, &Contact{CVR: cvrUnprotected}); !errors.Is(err, data.err) {
		t.Fatalf("err = %v, want the storage error", err)
	}
	if data.lookups != 1 {
		t.Errorf("%d lookups", data.lookups)
	}
}

func TestDefaultCVRMaxAge(t *testing.T) {
	info := DatasetInfo{Kind: KindCVR, Published: today.AddDate(0, 0, -31)}
	if info.Stale(today) {
		t.Error("31 days old is stale")
	}
	info.Published = today.AddDate(0, 0, -31).Add(-time.Hour)
	if !info.Stale(today) {
		t.Error("31 days and an hour old is fresh")
	}
}

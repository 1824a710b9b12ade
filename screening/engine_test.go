package screening

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/robinson"
)

var today = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fakeList is an in-memory RobinsonList built through the real line parser.
type fakeList struct {
	info    DatasetInfo
	byKey   map[string][]*robinson.Record
	family  robinson.FamilySet
	lookups int
}

func newFakeList(t testing.TB, published time.Time, entries ...cprfmt.RobinsonEntry) *fakeList {
	t.Helper()
	l := &fakeList{info: DatasetInfo{Kind: KindRobinson, Version: "r1", Published: published}, byKey: map[string][]*robinson.Record{}}
	var fc robinson.FamilyCounter
	for i, e := range entries {
		rec, err := robinson.ParseLine(cprfmt.RobinsonLine(e), i+3)
		if err != nil {
			t.Fatalf("list entry %d: %v", i, err)
		}
		for _, sn := range rec.Name.Surnames {
			k := string(robinson.AppendKey(nil, rec.Address.Postcode, rec.Address.HouseNumber, sn))
			l.byKey[k] = append(l.byKey[k], rec)
		}
		fc.Add(rec)
	}
	l.family = fc.Set()
	return l
}

func (l *fakeList) FamilyTypes() robinson.FamilyTypes { return l.family }

func (l *fakeList) NearCandidates(p *robinson.Probe, fn func(*robinson.Record)) error {
	ak := string(p.AddressKey())
	if ak == "" {
		return nil
	}
	keys := make([]string, 0, len(l.byKey))
	for k := range l.byKey {
		if w, ok := strings.CutPrefix(k, ak); ok && p.NearSurname(w) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		l.Candidates([]byte(k), p, fn)
	}
	return nil
}

func (l *fakeList) Info() DatasetInfo { return l.info }
func (l *fakeList) Candidates(key []byte, _ *robinson.Probe, fn func(*robinson.Record)) error {
	l.lookups++
	for _, r := range l.byKey[string(key)] {
		fn(r)
	}
	return nil
}

type fakeCPR struct {
	info    DatasetInfo
	persons map[cprcheck.Number]cprcheck.Person
	err     error
}

func (f *fakeCPR) Info() DatasetInfo { return f.info }
func (f *fakeCPR) Lookup(n cprcheck.Number) (cprcheck.Person, bool, error) {
	p, ok := f.persons[n]
	return p, ok, f.err
}

func num(t testing.TB, s string) cprcheck.Number {
	t.Helper()
	n, err := cprcheck.Parse(s)
	if err != nil {
		t.Fatalf("test number %s: %v", s, err)
	}
	return n
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var listEntries = []cprfmt.RobinsonEntry{
	{Name: "Testesen,Søren", Address: "Fiktivvej 12, 2. tv", PostDist: "2100 København Ø", HouseNumber: "012", Floor: "02", Door: "tv"},
	{Name: "Hansen Jensen,Mette", Address: "Dronn. Louises V. 15, 1. th", PostDist: "2200 København N", HouseNumber: "015", Floor: "01", Door: "th"},
	{Name: "Jensen,Hans Peter", Address: "Opdigtet Allé 7", PostDist: "5000 Odense C", HouseNumber: "007"},
	{Name: "Jensen,Hans Peter", Address: "Gl. Testvej 3 st tv", PostDist: "5000 Odense C", Previous: true},
}

const (
	cprProtected = "0101801230"
	cprDeceased  = "0202451236"
	cprActive    = "0303901232"
	cprEnded     = "0404901230"
	cprFuture    = "0505901231"
	cprNameAddr  = "0606901232"
	cprAbsent    = "0707901233"
)

func newFakeCPR(t testing.TB, published time.Time) *fakeCPR {
	prot := func(typ cprcheck.ProtectionType, start, end time.Time) []cprcheck.Protection {
		return []cprcheck.Protection{{Type: typ, Start: start, End: end}}
	}
	return &fakeCPR{
		info: DatasetInfo{Kind: KindCPR, Version: "c1", Published: published},
		persons: map[cprcheck.Number]cprcheck.Person{
			num(t, cprProtected): {Status: "01", HasStatus: true, Protections: prot(cprcheck.ProtectionMarketing, day(2020, 1, 1), time.Time{})},
			num(t, cprDeceased):  {Status: "90", HasStatus: true},
			num(t, cprActive):    {Status: "01", HasStatus: true},
			num(t, cprEnded):     {Status: "01", HasStatus: true, Protections: prot(cprcheck.ProtectionMarketing, day(2020, 1, 1), day(2026, 11, 22))},
			num(t, cprFuture):    {Status: "01", HasStatus: true, Protections: prot(cprcheck.ProtectionMarketing, day(2026, 11, 23), time.Time{})},
			num(t, cprNameAddr):  {Status: "01", HasStatus: true, Protections: prot(cprcheck.ProtectionNameAddress, day(2020, 1, 1), time.Time{})},
		},
	}
}

const (
	soeren      = "Søren Testesen"
	soerenAddr  = "Fiktivvej 12, 2. tv, 2100 København Ø"
	cleanName   = "Karen Uopført"
	cleanAddr   = "Ikkelistet Vej 3, 8000 Aarhus C"
	robinsonRef = "ROBINSON"
)

func TestScreen(t *testing.T) {
	fresh := today.AddDate(0, 0, -30)
	stale := today.AddDate(0, 0, -101)
	tests := []struct {
		name      string
		ch        Channel
		purpose   Purpose
		c         Contact
		noCPRData bool
		staleList bool
		want      Decision
		reasons   []Reason
		// finding that must be present (source + reason), optional
		finding *Finding
	}{
		// 1. Deceased wins over everything.
		{name: "deceased", ch: ChannelPost, c: Contact{CPR: cprDeceased, Name: cleanName, Address: cleanAddr}, want: Block, reasons: []Reason{ReasonDeceased}},
		{name: "deceased with consent", ch: ChannelEmail, c: Contact{CPR: cprDeceased, Consent: true}, want: Block, reasons: []Reason{ReasonDeceased}},
		{name: "deceased and opted out", ch: ChannelPost, c: Contact{CPR: cprDeceased, OptedOut: true}, want: Block, reasons: []Reason{ReasonDeceased}},
		// 2. Opt-out overrides consent.
		{name: "opted out", ch: ChannelPost, c: Contact{Name: cleanName, Address: cleanAddr, OptedOut: true}, want: Block, reasons: []Reason{ReasonOptedOut}},
		{name: "opted out with consent", ch: ChannelPhone, purpose: PurposeOther, c: Contact{Name: soeren, Address: soerenAddr, Consent: true, OptedOut: true}, want: Block, reasons: []Reason{ReasonOptedOut}},
		// 3. Consent overrides the list; the list finding is informational.
		{name: "consent overrides Robinson", ch: ChannelPhone, purpose: PurposeOther, c: Contact{Name: soeren, Address: soerenAddr, Consent: true}, want: Allow, reasons: []Reason{ReasonConsent},
			finding: &Finding{Source: SourceRobinson, Reason: ReasonRobinsonList}},
		{name: "consent overrides CPR protection", ch: ChannelEmail, c: Contact{CPR: cprProtected, Consent: true}, want: Allow, reasons: []Reason{ReasonConsent},
			finding: &Finding{Source: SourceCPR, Reason: ReasonCPRMarketingProtection}},
		{name: "consent with stale data stays ALLOW", ch: ChannelPost, staleList: true, c: Contact{Name: cleanName, Address: cleanAddr, Consent: true}, want: Allow, reasons: []Reason{ReasonConsent}},
		// 4. Channel gate.
		{name: "email without consent", ch: ChannelEmail, c: Contact{Name: cleanName, Address: cleanAddr, Email: "k@example.test"}, want: Block, reasons: []Reason{ReasonNoConsent}},
		{name: "sms without consent", ch: ChannelSMS, c: Contact{Name: cleanName, Address: cleanAddr}, want: Block, reasons: []Reason{ReasonNoConsent}},
		{name: "email existing customer clean", ch: ChannelEmail, c: Contact{Name: cleanName, Address: cleanAddr, ExistingCustomer: true}, want: Allow},
		{name: "sms existing customer listed", ch: ChannelSMS, c: Contact{Name: soeren, Address: soerenAddr, ExistingCustomer: true}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "phone purpose other", ch: ChannelPhone, purpose: PurposeOther, c: Contact{Name: cleanName, Address: cleanAddr}, want: Block, reasons: []Reason{ReasonNoConsent}},
		{name: "phone purpose unspecified counts as other", ch: ChannelPhone, c: Contact{Name: cleanName, Address: cleanAddr}, want: Block, reasons: []Reason{ReasonNoConsent}},
		{name: "phone existing customer is no exemption", ch: ChannelPhone, purpose: PurposeOther, c: Contact{Name: cleanName, Address: cleanAddr, ExistingCustomer: true}, want: Block, reasons: []Reason{ReasonNoConsent}},
		{name: "phone books clean", ch: ChannelPhone, purpose: PurposeBooks, c: Contact{Name: cleanName, Address: cleanAddr}, want: Allow},
		{name: "phone periodical clean", ch: ChannelPhone, purpose: PurposePeriodicalSubscription, c: Contact{Name: cleanName, Address: cleanAddr}, want: Allow},
		{name: "phone insurance listed", ch: ChannelPhone, purpose: PurposeInsurance, c: Contact{Name: soeren, Address: soerenAddr}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "phone rescue listed", ch: ChannelPhone, purpose: PurposeRescueOrPatientTransport, c: Contact{Name: soeren, Address: soerenAddr}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "post listed", ch: ChannelPost, c: Contact{Name: soeren, Address: soerenAddr}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "post clean", ch: ChannelPost, c: Contact{Name: cleanName, Address: cleanAddr}, want: Allow},
		// 5. List checks.
		{name: "invalid cpr with clean name and address", ch: ChannelPost, c: Contact{CPR: "3102901234", Name: cleanName, Address: cleanAddr}, want: Review, reasons: []Reason{ReasonInvalidCPR}},
		{name: "invalid cpr nine digits only", ch: ChannelPost, c: Contact{CPR: "101801234"}, want: Review, reasons: []Reason{ReasonInvalidCPR, ReasonUnverifiable}},
		{name: "invalid cpr and listed", ch: ChannelPost, c: Contact{CPR: "12345", Name: soeren, Address: soerenAddr}, want: Block, reasons: []Reason{ReasonInvalidCPR, ReasonRobinsonList}},
		{name: "cpr marketing protection", ch: ChannelPost, c: Contact{CPR: cprProtected}, want: Block, reasons: []Reason{ReasonCPRMarketingProtection}},
		{name: "cpr marketing protection hyphen and blanks", ch: ChannelPost, c: Contact{CPR: "  010180-1230 "}, want: Block, reasons: []Reason{ReasonCPRMarketingProtection}},
		{name: "cpr protection and Robinson", ch: ChannelPost, c: Contact{CPR: cprProtected, Name: soeren, Address: soerenAddr}, want: Block, reasons: []Reason{ReasonCPRMarketingProtection, ReasonRobinsonList}},
		{name: "cpr protection ended on its end date", ch: ChannelPost, c: Contact{CPR: cprEnded}, want: Allow},
		{name: "cpr protection starts tomorrow", ch: ChannelPost, c: Contact{CPR: cprFuture}, want: Allow},
		{name: "cpr name-and-address protection only", ch: ChannelPost, c: Contact{CPR: cprNameAddr}, want: Allow},
		{name: "cpr active verifies alone", ch: ChannelPost, c: Contact{CPR: cprActive}, want: Allow},
		{name: "cpr not in extract, no address", ch: ChannelPost, c: Contact{CPR: cprAbsent}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "cpr not in extract, name and address", ch: ChannelPost, c: Contact{CPR: cprAbsent, Name: cleanName, Address: cleanAddr}, want: Allow},
		{name: "cpr without CPR dataset", ch: ChannelPost, noCPRData: true, c: Contact{CPR: cprActive, Name: cleanName, Address: cleanAddr}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "name only", ch: ChannelPost, c: Contact{Name: cleanName}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "address only", ch: ChannelPost, c: Contact{Address: cleanAddr}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "no house number", ch: ChannelPost, c: Contact{Name: cleanName, Address: "Ikkelistet Vej, 8000 Aarhus C"}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "no postcode", ch: ChannelPost, c: Contact{Name: cleanName, Address: "Ikkelistet Vej 3"}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "postcode from postal_code column", ch: ChannelPost, c: Contact{Name: soeren, Address: "Fiktivvej 12 2 tv", PostalCode: "2100"}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "postal_code wins over address", ch: ChannelPost, c: Contact{Name: soeren, Address: "Fiktivvej 12, 2. tv, 2100 København Ø", PostalCode: "2200"}, want: Allow},
		{name: "postal_code wins and matches", ch: ChannelPost, c: Contact{Name: soeren, Address: "Fiktivvej 12, 2. tv, 9999 Andetsteds", PostalCode: " DK-2100 "}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "phone only", ch: ChannelPhone, purpose: PurposeBooks, c: Contact{Phone: "+45 12 34 56 78"}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "double surname contact uses one", ch: ChannelPost, c: Contact{Name: "Mette Jensen", Address: "Dronning Louises Vej 15, 1. th., 2200 København N"}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "middle name is enough", ch: ChannelPost, c: Contact{Name: "Peter Jensen", Address: "Opdigtet Alle 7, 5000 Odense C"}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "previous address", ch: ChannelPost, c: Contact{Name: "Jensen, Hans", Address: "Gl Testvej 3, st. tv., 5000 Odense C"}, want: Block, reasons: []Reason{ReasonRobinsonList},
			finding: &Finding{Source: SourceRobinson, Reason: ReasonRobinsonList}},
		{name: "initial is possible", ch: ChannelPost, c: Contact{Name: "S. Testesen", Address: soerenAddr}, want: Review, reasons: []Reason{ReasonRobinsonPossibleMatch}},
		{name: "floor conflict is possible", ch: ChannelPost, c: Contact{Name: soeren, Address: "Fiktivvej 12, 3. tv, 2100 København Ø"}, want: Review, reasons: []Reason{ReasonRobinsonPossibleMatch}},
		{name: "initial with floor conflict is no match", ch: ChannelPost, c: Contact{Name: "S. Testesen", Address: "Fiktivvej 12, 3. tv, 2100 København Ø"}, want: Allow},
		{name: "gl. abbreviates gammel by the table", ch: ChannelPost, c: Contact{Name: "Jensen, Hans", Address: "Gammel Testvej 3, st. tv., 5000 Odense C"}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "gl. abbreviates no other word", ch: ChannelPost, c: Contact{Name: "Jensen, Hans", Address: "Galde Testvej 3, st. tv., 5000 Odense C"}, want: Allow},
		{name: "near surname is possible", ch: ChannelPost, c: Contact{Name: "Søren Testessen", Address: soerenAddr}, want: Review, reasons: []Reason{ReasonRobinsonPossibleMatch}},
		{name: "near street is possible", ch: ChannelPost, c: Contact{Name: soeren, Address: "Fiktivvejen 12, 2. tv, 2100 København Ø"}, want: Review, reasons: []Reason{ReasonRobinsonPossibleMatch}},
		{name: "near given name is possible", ch: ChannelPost, c: Contact{Name: "Sørn Testesen", Address: soerenAddr}, want: Review, reasons: []Reason{ReasonRobinsonPossibleMatch}},
		{name: "two nears are no match", ch: ChannelPost, c: Contact{Name: "Søren Testessen", Address: "Fiktivvejen 12, 2. tv, 2100 København Ø"}, want: Allow},
		{name: "neighbour house number", ch: ChannelPost, c: Contact{Name: soeren, Address: "Fiktivvej 14, 2. tv, 2100 København Ø"}, want: Allow},
		{name: "other given name", ch: ChannelPost, c: Contact{Name: "Bent Testesen", Address: soerenAddr}, want: Allow},
		// 7. Stale data.
		{name: "stale list turns ALLOW into REVIEW", ch: ChannelPost, staleList: true, c: Contact{Name: cleanName, Address: cleanAddr}, want: Review, reasons: []Reason{ReasonStaleData}},
		{name: "stale list keeps BLOCK", ch: ChannelPost, staleList: true, c: Contact{Name: soeren, Address: soerenAddr}, want: Block, reasons: []Reason{ReasonRobinsonList}},
		{name: "stale list keeps NO_CONSENT", ch: ChannelEmail, staleList: true, c: Contact{Name: cleanName, Address: cleanAddr}, want: Block, reasons: []Reason{ReasonNoConsent}},
		// Business contacts.
		{name: "business phone without CVR data cannot be verified", ch: ChannelPhone, purpose: PurposeOther, c: Contact{CVR: "12345674", Name: "Fiktiv ApS"}, want: Review, reasons: []Reason{ReasonUnverifiable}},
		{name: "business post bad cvr", ch: ChannelPost, c: Contact{CVR: "1234"}, want: Review, reasons: []Reason{ReasonInvalidCVR}},
		{name: "business email without consent", ch: ChannelEmail, c: Contact{CVR: "12345678"}, want: Block, reasons: []Reason{ReasonNoConsent}},
		{name: "business email existing customer", ch: ChannelEmail, c: Contact{CVR: "12345678", ExistingCustomer: true}, want: Allow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub := fresh
			if tt.staleList {
				pub = stale
			}
			snap := Snapshot{Robinson: newFakeList(t, pub, listEntries...)}
			if !tt.noCPRData {
				snap.CPR = newFakeCPR(t, fresh)
			}
			e := Engine{Now: func() time.Time { return today }}
			c := tt.c
			c.Ref = "ref-" + tt.name
			res, err := e.Screen(snap, tt.ch, tt.purpose, &c)
			if err != nil {
				t.Fatalf("Screen: %v", err)
			}
			if res.Ref != c.Ref {
				t.Errorf("Ref = %q, want %q", res.Ref, c.Ref)
			}
			if res.Decision != tt.want || !slices.Equal(res.Reasons, tt.reasons) {
				t.Errorf("got %v %v, want %v %v\nfindings: %+v", res.Decision, res.Reasons, tt.want, tt.reasons, res.Findings)
			}
			if tt.finding != nil && !slices.ContainsFunc(res.Findings, func(f Finding) bool {
				return f.Source == tt.finding.Source && f.Reason == tt.finding.Reason
			}) {
				t.Errorf("missing finding %v/%v in %+v", tt.finding.Source, tt.finding.Reason, res.Findings)
			}
			for _, f := range res.Findings {
				if digits := strings.ReplaceAll(strings.TrimSpace(c.CPR), "-", ""); len(digits) >= 6 && strings.Contains(f.Detail, digits[:6]) {
					t.Errorf("finding detail echoes the personal number: %q", f.Detail)
				}
			}
		})
	}
}

func TestScreenPreviousAddressFinding(t *testing.T) {
	snap := Snapshot{Robinson: newFakeList(t, today, listEntries...), CPR: newFakeCPR(t, today)}
	e := Engine{Now: func() time.Time { return today }}
	res, err := e.Screen(snap, ChannelPost, PurposeUnspecified, &Contact{Name: "Hans Peter Jensen", Address: "Gl. Testvej 3 st tv 5000 Odense C"})
	if err != nil {
		t.Fatal(err)
	}
	var got *robinson.Outcome
	for _, f := range res.Findings {
		if f.Robinson != nil {
			got = f.Robinson
		}
	}
	if got == nil || !got.Previous || got.Name != robinson.NameFull || got.Level != robinson.Matched || got.Line != 6 {
		t.Fatalf("outcome = %+v, want a FULL match on the previous-address record at line 6", got)
	}
	if len(res.Datasets) != 1 || res.Datasets[0].Kind != KindRobinson || res.Datasets[0].Version != "r1" {
		t.Errorf("datasets = %+v, want the Robinson list only", res.Datasets)
	}
}

func TestScreenDatasetsReported(t *testing.T) {
	snap := Snapshot{Robinson: newFakeList(t, today, listEntries...), CPR: newFakeCPR(t, today.AddDate(0, 0, -200))}
	e := Engine{Now: func() time.Time { return today }}
	res, err := e.Screen(snap, ChannelPost, PurposeUnspecified, &Contact{CPR: cprActive, Name: cleanName, Address: cleanAddr})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Datasets) != 2 {
		t.Fatalf("datasets = %+v, want cpr and robinson", res.Datasets)
	}
	for _, d := range res.Datasets {
		if d.Kind == KindCPR && !d.Stale || d.Kind == KindRobinson && d.Stale {
			t.Errorf("dataset %+v: wrong staleness", d)
		}
	}
	if res.Decision != Review || !slices.Equal(res.Reasons, []Reason{ReasonStaleData}) {
		t.Errorf("got %v %v, want REVIEW STALE_DATA from the stale CPR extract", res.Decision, res.Reasons)
	}
}

func TestScreenLooksUpEachSurnameWordOnce(t *testing.T) {
	l := newFakeList(t, today, listEntries...)
	e := Engine{Now: func() time.Time { return today }}
	if _, err := e.Screen(Snapshot{Robinson: l}, ChannelPost, 0, &Contact{Name: "Hansen Jensen, Mette", Address: "Dronn. Louises V. 15, 2200 København N"}); err != nil {
		t.Fatal(err)
	}
	if l.lookups != 2 {
		t.Errorf("lookups = %d, want one per distinct surname word (2)", l.lookups)
	}
}

func TestScreenErrors(t *testing.T) {
	e := Engine{Now: func() time.Time { return today }}
	if _, err := e.Screen(Snapshot{}, ChannelPost, 0, &Contact{}); !errors.Is(err, ErrNoDataset) {
		t.Errorf("no dataset: err = %v, want ErrNoDataset", err)
	}
	snap := Snapshot{Robinson: newFakeList(t, today, listEntries...)}
	for _, ch := range []Channel{ChannelUnspecified, ChannelPost + 1} {
		if _, err := e.Screen(snap, ch, 0, &Contact{}); !errors.Is(err, ErrChannel) {
			t.Errorf("channel %d: err = %v, want ErrChannel", ch, err)
		}
	}
	boom := errors.New("disk on fire")
	snap.CPR = &fakeCPR{info: DatasetInfo{Kind: KindCPR}, err: boom}
	if _, err := e.Screen(snap, ChannelPost, 0, &Contact{CPR: cprActive}); !errors.Is(err, boom) {
		t.Errorf("storage error: err = %v, want it passed through", err)
	}
}

func TestScreenFixes(t *testing.T) {
	e := Engine{Now: func() time.Time { return today }}
	tests := []struct {
		name    string
		pub     time.Time
		ch      Channel
		c       Contact
		want    Decision
		reasons []Reason
	}{
		{"future-dated list is stale", today.AddDate(0, 0, 30), ChannelPost, Contact{Name: cleanName, Address: cleanAddr}, Review, []Reason{ReasonStaleData}},
		{"business with a listed person's name and address", today, ChannelEmail, Contact{CVR: "12345678", Name: soeren, Address: soerenAddr, ExistingCustomer: true}, Block, []Reason{ReasonRobinsonList}},
		{"business with company name and address by e-mail", today, ChannelEmail, Contact{CVR: "12345678", Name: "Fiktiv ApS", Address: "Erhvervsvej 1, 8000 Aarhus C", ExistingCustomer: true}, Allow, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := Snapshot{Robinson: newFakeList(t, tt.pub, listEntries...)}
			res, err := e.Screen(snap, tt.ch, PurposeUnspecified, &tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tt.want || !slices.Equal(res.Reasons, tt.reasons) {
				t.Errorf("got %v %v, want %v %v", res.Decision, res.Reasons, tt.want, tt.reasons)
			}
		})
	}
}

func TestPostalCode(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "2100", "2100"},
		{"blanks and DK- prefix", " DK-2100 ", "2100"},
		{"lower-case dk and town", "dk 8000 Aarhus", "8000"},
		{"three digits", "210", ""},
		{"five digits", "21000", ""},
		{"letters", "abcd", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := PostalCode(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("PostalCode(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

// ruledOut is a RobinsonList whose filter rules every record out, as a
// store's does for most contacts: it reads nothing and allocates nothing.
type ruledOut struct{ info DatasetInfo }

func (l ruledOut) Info() DatasetInfo                                              { return l.info }
func (ruledOut) Candidates([]byte, *robinson.Probe, func(*robinson.Record)) error { return nil }
func (ruledOut) NearCandidates(*robinson.Probe, func(*robinson.Record)) error     { return nil }
func (ruledOut) FamilyTypes() robinson.FamilyTypes                                { return nil }

// TestScreenIntoReusedScratch: one Scratch screening contacts one after
// the other gives each the Result a fresh one gives (the parsed name and
// address, the probe and the outcome it keeps belong to one contact), and
// a contact the list rules out costs no allocation.
func TestScreenIntoReusedScratch(t *testing.T) {
	e := Engine{Now: func() time.Time { return today }}
	list := Snapshot{Robinson: newFakeList(t, today, listEntries...)}
	contacts := []struct {
		name string
		c    Contact
		want Decision
	}{
		{name: "listed", c: Contact{Name: soeren, Address: soerenAddr}, want: Block},
		{name: "clean", c: Contact{Name: cleanName, Address: cleanAddr}, want: Allow},
		{name: "previous address", c: Contact{Name: "Jensen, Hans", Address: "Gl Testvej 3, st. tv., 5000 Odense C"}, want: Block},
		{name: "double surname", c: Contact{Name: "Mette Jensen", Address: "Dronning Louises Vej 15, 1. th., 2200 København N"}, want: Block},
		{name: "no house number", c: Contact{Name: soeren, Address: "Fiktivvej, 2100 København Ø"}, want: Review},
	}
	var sc Scratch
	for round := range 2 {
		for _, tt := range contacts {
			t.Run(fmt.Sprintf("%s/%d", tt.name, round), func(t *testing.T) {
				want, err := e.Screen(list, ChannelPost, PurposeUnspecified, &tt.c)
				if err != nil {
					t.Fatal(err)
				}
				got, err := e.ScreenInto(&sc, list, ChannelPost, PurposeUnspecified, &tt.c)
				if err != nil {
					t.Fatal(err)
				}
				if got.Decision != tt.want || !reflect.DeepEqual(*got, want) {
					t.Errorf("ScreenInto = %+v, want %v and Screen's %+v", *got, tt.want, want)
				}
			})
		}
	}
	snap := Snapshot{Robinson: ruledOut{info: DatasetInfo{Kind: KindRobinson, Version: "r1", Published: today}}}
	for _, tt := range contacts {
		t.Run("allocs/"+tt.name, func(t *testing.T) {
			c := tt.c
			if n := testing.AllocsPerRun(50, func() {
				if _, err := e.ScreenInto(&sc, snap, ChannelPost, PurposeUnspecified, &c); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%v allocations per contact, want 0", n)
			}
		})
	}
}

// TestScreenResultsDetached: a Result of Screen keeps its findings, outcome
// and datasets when later calls reuse the pooled Scratch it was built in.
func TestScreenResultsDetached(t *testing.T) {
	e := Engine{Now: func() time.Time { return today }}
	snap := Snapshot{Robinson: newFakeList(t, today, listEntries...), CPR: newFakeCPR(t, today)}
	first, err := e.Screen(snap, ChannelPost, PurposeUnspecified, &Contact{Name: "Jensen, Hans", Address: "Gl Testvej 3, st. tv., 5000 Odense C"})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%+v", first)
	for _, f := range first.Findings {
		if f.Robinson != nil {
			want += fmt.Sprintf(" %+v", *f.Robinson)
		}
	}
	for range 20 {
		if _, err := e.Screen(snap, ChannelPost, PurposeUnspecified, &Contact{CPR: cprActive, Name: soeren, Address: soerenAddr}); err != nil {
			t.Fatal(err)
		}
	}
	got := fmt.Sprintf("%+v", first)
	for _, f := range first.Findings {
		if f.Robinson != nil {
			got += fmt.Sprintf(" %+v", *f.Robinson)
		}
	}
	if got != want || first.Decision != Block {
		t.Errorf("the first Result changed:\n%s\nwas\n%s", got, want)
	}
}

package screening

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/suppress"
)

// TestSuppressionListStep2 checks rule 2.2 with the service's list: an
// entry for any of the contact's values blocks it OPTED_OUT on every
// channel, ahead of consent, and only the deceased rule comes before it.
func TestSuppressionListStep2(t *testing.T) {
	h, err := suppress.NewHasher([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	set := suppress.NewSet(h)
	add := func(k suppress.Kind, v, scope string) {
		key, err := h.Key(k, v)
		if err != nil {
			t.Fatal(err)
		}
		set.Insert(suppress.Entry{Key: key, Scope: scope, Reason: suppress.ReasonRequested})
	}
	add(suppress.KindPhone, "12345678", "")
	add(suppress.KindEmail, "stop@example.dk", "")
	add(suppress.KindCPR, "0101901234", "")
	add(suppress.KindCVR, "87654321", "")
	add(suppress.KindPhone, "22222222", "brand-a")

	snap := Snapshot{Robinson: newFakeList(t, today.AddDate(0, -1, 0)), Suppressions: set}
	tests := []struct {
		name    string
		ch      Channel
		c       Contact
		want    Decision
		blocked bool // OPTED_OUT from the suppression list
	}{
		{"phone as +45 with consent, phone channel", ChannelPhone, Contact{Phone: "+45 12 34 56 78", Consent: true}, Block, true},
		{"phone as 0045, post channel", ChannelPost, Contact{Phone: "0045 12345678", Name: "Jens Hansen", Address: "Vej 1, 8000 Aarhus C"}, Block, true},
		{"email upper case, email channel, consent", ChannelEmail, Contact{Email: " STOP@Example.dk", Consent: true}, Block, true},
		{"personal number with dash, sms", ChannelSMS, Contact{CPR: "010190-1234", Consent: true}, Block, true},
		{"cvr with DK, phone to business", ChannelPhone, Contact{CVR: "DK87654321"}, Block, true},
		{"scoped entry, same scope", ChannelPhone, Contact{Phone: "22222222", Consent: true, Scope: "brand-a"}, Block, true},
		{"scoped entry, other scope", ChannelPhone, Contact{Phone: "22222222", Consent: true, Scope: "brand-b"}, Allow, false},
		{"scoped entry, no scope named", ChannelPhone, Contact{Phone: "22222222", Consent: true}, Block, true},
		{"other phone, consent", ChannelPhone, Contact{Phone: "12345679", Consent: true}, Allow, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			res, err := (&Engine{Now: func() time.Time { return today }}).Screen(snap, tc.ch, PurposeBooks, &c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Decision != tc.want {
				t.Fatalf("decision %v, want %v (%+v)", res.Decision, tc.want, res.Findings)
			}
			got := false
			for _, f := range res.Findings {
				if f.Source == SourceSuppression && f.Reason == ReasonOptedOut && f.Decision == Block {
					got = true
				}
			}
			if got != tc.blocked {
				t.Fatalf("suppression finding %v, want %v (%+v)", got, tc.blocked, res.Findings)
			}
			if tc.blocked && (len(res.Reasons) != 1 || res.Reasons[0] != ReasonOptedOut) {
				t.Fatalf("reasons %v, want [OPTED_OUT]", res.Reasons)
			}
		})
	}
	// Without a list the same contact is cleared by consent: the finding
	// above came from the list.
	c := Contact{Phone: "12345678", Consent: true}
	res, err := (&Engine{Now: func() time.Time { return today }}).Screen(Snapshot{Robinson: snap.Robinson}, ChannelPhone, PurposeOther, &c)
	if err != nil || res.Decision != Allow {
		t.Fatalf("no list: %v %v", res.Decision, err)
	}
}

// TestScratchKeepsNoIdentifiers: after ScreenInto the scratch, which pools
// keep between calls, holds no contact, snapshot or raw identifier of the
// call, while the returned result is intact.
func TestScratchKeepsNoIdentifiers(t *testing.T) {
	h, err := suppress.NewHasher([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	snap := Snapshot{Robinson: newFakeList(t, today.AddDate(0, -1, 0)), Suppressions: suppress.NewSet(h)}
	for _, tc := range []struct {
		name string
		c    Contact
	}{
		{"phone, e-mail and personal number", Contact{Phone: "12345678", Email: "a@example.dk", CPR: "0101901234", Name: "Jens Hansen", Address: "Vej 1, 8000 Aarhus C"}},
		{"business number", Contact{CVR: "87654321", Name: "Jens Hansen", Address: "Vej 1, 8000 Aarhus C"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sc Scratch
			c := tc.c
			res, err := (&Engine{Now: func() time.Time { return today }}).ScreenInto(&sc, snap, ChannelPost, PurposeBooks, &c)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Findings) == 0 || res.Decision == DecisionUnspecified {
				t.Fatalf("empty result: %+v", res)
			}
			if !reflect.DeepEqual(sc.screener, screener{}) {
				t.Error("the scratch keeps the screener (contact, snapshot or CPR record)")
			}
			if sc.match.values != (suppress.Values{}) {
				t.Error("the scratch keeps the raw identifiers")
			}
			if sc.match.matcher.Roads != nil || sc.match.matcher.Family != nil {
				t.Error("the scratch keeps the snapshot's road register or family types")
			}
		})
	}
}

package server

import (
	"strings"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// tallySize bounds the enum values a tally counts in arrays; larger values
// (none the service sends) are counted in a map.
const tallySize = 64

// tally counts the decisions and reasons of one message's results by enum
// value, so that the audit log and the metrics name each label once per
// message instead of once per contact.
type tally struct {
	decisions [tallySize]int
	reasons   [tallySize]int
	other     map[string]int // "D:"/"R:" + label, for values beyond the arrays
}

// add counts the decision and reasons of every result.
func (t *tally) add(results []*pb.ScreeningResult) {
	for _, r := range results {
		if d := r.GetDecision(); d >= 0 && d < tallySize {
			t.decisions[d]++
		} else {
			t.addOther("D:" + decisionLabel(d))
		}
		for _, x := range r.GetReasons() {
			if x >= 0 && x < tallySize {
				t.reasons[x]++
			} else {
				t.addOther("R:" + reasonLabel(x))
			}
		}
	}
}

func (t *tally) addOther(key string) {
	if t.other == nil {
		t.other = map[string]int{}
	}
	t.other[key]++
}

// each calls decision and reason with every label counted and its count.
func (t *tally) each(decision, reason func(label string, n int)) {
	for d, n := range t.decisions {
		if n > 0 {
			decision(decisionLabel(pb.Decision(d)), n)
		}
	}
	for x, n := range t.reasons {
		if n > 0 {
			reason(reasonLabel(pb.Reason(x)), n)
		}
	}
	for k, n := range t.other {
		if strings.HasPrefix(k, "D:") {
			decision(k[2:], n)
		} else {
			reason(k[2:], n)
		}
	}
}

// decisionLabel is a decision's name without its DECISION_ prefix (the
// label of the metrics and the audit log).
func decisionLabel(d pb.Decision) string { return strings.TrimPrefix(d.String(), "DECISION_") }

// reasonLabel is a reason's name without its REASON_ prefix.
func reasonLabel(x pb.Reason) string { return strings.TrimPrefix(x.String(), "REASON_") }

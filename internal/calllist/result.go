package calllist

import (
	"strings"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// OutputColumns are the columns added to every row; a name the input
// already uses gets the prefix "robinscreen_".
func OutputColumns(header []string) []string {
	used := map[string]bool{}
	for _, h := range header {
		used[normalize(h)] = true
	}
	out := []string{"decision", "reasons", "explanation"}
	for i, c := range out {
		if used[normalize(c)] {
			out[i] = "robinscreen_" + c
		}
	}
	return out
}

// DecisionText is the decision without its enum prefix: ALLOW, BLOCK,
// REVIEW.
func DecisionText(d pb.Decision) string {
	return strings.TrimPrefix(d.String(), "DECISION_")
}

// ResultColumns are the decision, the reasons ("ROBINSON_LIST|NO_CONSENT")
// and an explanation listing every finding the server returned: first those
// that agree with the decision, then the others with the decision each
// would imply on its own marked, e.g. under consent "explicit consent to
// this sender; [alone: BLOCK] on the Robinson list (...)". Findings
// without a detail are named by their reason.
func ResultColumns(r *pb.ScreeningResult) [3]string {
	var reasons []string
	for _, x := range r.GetReasons() {
		reasons = append(reasons, strings.TrimPrefix(x.String(), "REASON_"))
	}
	var agree, other []string
	seen := map[string]bool{}
	for _, f := range r.GetFindings() {
		d := f.GetDetail()
		if d == "" {
			d = strings.TrimPrefix(f.GetReason().String(), "REASON_")
		}
		applied := f.GetDecision() == r.GetDecision() || f.GetDecision() == pb.Decision_DECISION_UNSPECIFIED ||
			f.GetDecision() == pb.Decision_DECISION_ALLOW
		if !applied {
			d = "[alone: " + DecisionText(f.GetDecision()) + "] " + d
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		if f.GetDecision() == r.GetDecision() {
			agree = append(agree, d)
		} else {
			other = append(other, d)
		}
	}
	return [3]string{DecisionText(r.GetDecision()), strings.Join(reasons, "|"), strings.Join(append(agree, other...), "; ")}
}

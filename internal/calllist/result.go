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
// and a short explanation: the details of the findings that produced the
// decision.
func ResultColumns(r *pb.ScreeningResult) [3]string {
	var reasons []string
	for _, x := range r.GetReasons() {
		reasons = append(reasons, strings.TrimPrefix(x.String(), "REASON_"))
	}
	var details []string
	seen := map[string]bool{}
	add := func(d string) {
		if d != "" && !seen[d] {
			seen[d] = true
			details = append(details, d)
		}
	}
	for _, f := range r.GetFindings() {
		if f.GetDecision() == r.GetDecision() {
			add(f.GetDetail())
		}
	}
	if len(details) == 0 {
		for _, f := range r.GetFindings() {
			add(f.GetDetail())
		}
	}
	return [3]string{DecisionText(r.GetDecision()), strings.Join(reasons, "|"), strings.Join(details, "; ")}
}

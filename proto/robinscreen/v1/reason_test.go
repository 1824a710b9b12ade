package robinscreenv1

import "testing"

func TestErrorReasonWireName(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want ErrorReason
	}{
		{"known", "NO_DATASET", ErrorReason_ERROR_REASON_NO_DATASET},
		{"rate limited", "RATE_LIMITED", ErrorReason_ERROR_REASON_RATE_LIMITED},
		{"unknown", "SOMETHING_NEW", ErrorReason_ERROR_REASON_UNSPECIFIED},
		{"empty", "", ErrorReason_ERROR_REASON_UNSPECIFIED},
		{"proto name is not a wire name", "ERROR_REASON_NO_DATASET", ErrorReason_ERROR_REASON_UNSPECIFIED},
		{"unspecified is never parsed", "UNSPECIFIED", ErrorReason_ERROR_REASON_UNSPECIFIED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseErrorReason(tt.wire); got != tt.want {
				t.Errorf("ParseErrorReason(%q) = %v, want %v", tt.wire, got, tt.want)
			}
		})
	}
	for n, name := range ErrorReason_name {
		r := ErrorReason(n)
		if r == ErrorReason_ERROR_REASON_UNSPECIFIED {
			continue
		}
		if got := ParseErrorReason(r.WireName()); got != r {
			t.Errorf("%s: wire name %q parses as %v", name, r.WireName(), got)
		}
	}
}

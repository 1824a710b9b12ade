package robinscreenv1

import "strings"

// errorReasonPrefix is the prefix every ErrorReason value name carries in
// the proto and not on the wire.
const errorReasonPrefix = "ERROR_REASON_"

// WireName returns r as it is sent in google.rpc.ErrorInfo.reason: the
// value's name without the ERROR_REASON_ prefix ("NO_DATASET"). A number
// the enum does not declare yields its decimal form.
func (r ErrorReason) WireName() string {
	return strings.TrimPrefix(r.String(), errorReasonPrefix)
}

// ParseErrorReason returns the ErrorReason whose WireName is s, or
// ERROR_REASON_UNSPECIFIED when s names none (a reason from a newer server,
// or an empty ErrorInfo).
func ParseErrorReason(s string) ErrorReason {
	if s == "" || strings.HasPrefix(s, errorReasonPrefix) {
		return ErrorReason_ERROR_REASON_UNSPECIFIED
	}
	return ErrorReason(ErrorReason_value[errorReasonPrefix+s])
}

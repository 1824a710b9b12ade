package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
)

// flagError turns a start-up configuration error into one line naming the
// flag and its file or address: "--token-file /etc/rs/tokens: line 3: want
// role:sha256hex[:name]". pairs are flag names and their values; the error
// is attributed to the flag whose file it names (an *os.PathError, or the
// value in its text), else to the first pair. A value repeated in the
// error's text ("token file X: ...") is not repeated in the message.
func flagError(err error, pairs ...string) error {
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(err.Error()), " ") // one line
	var pe *os.PathError
	if errors.As(err, &pe) {
		for i := 0; i+1 < len(pairs); i += 2 {
			if pairs[i+1] != "" && pe.Path == pairs[i+1] {
				return fmt.Errorf("%s %s: %v", pairs[i], pairs[i+1], pe.Err)
			}
		}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "listen" && len(pairs) >= 2 {
		return fmt.Errorf("%s %s: cannot listen: %v", pairs[0], pairs[1], oe.Err)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i+1]
		if v == "" {
			continue
		}
		if j := strings.Index(msg, v+": "); j >= 0 {
			return fmt.Errorf("%s %s: %s", pairs[i], v, msg[j+len(v)+2:])
		}
		if strings.Contains(msg, v) {
			return fmt.Errorf("%s %s: %s", pairs[i], v, msg)
		}
	}
	if len(pairs) >= 2 {
		return fmt.Errorf("%s %s: %s", pairs[0], pairs[1], msg)
	}
	return errors.New(msg)
}

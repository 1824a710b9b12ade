// Package cprcheck parses and validates Danish CPR personal numbers and
// parses CPR extracts (the fixed-width, personal-number keyed files that CPR
// subscribers receive).
//
// # Personal numbers
//
// [Parse] accepts "DDMMYYSSSS" and "DDMMYY-SSSS" (blanks around are
// trimmed). A number is valid when it has 10 digits and its first six digits
// form a real calendar date under the CPR century rule (the 7th digit selects
// the century). The modulus-11 check is not a validity rule: CPR has issued
// numbers failing it since 2007; [Number.Mod11] reports it for information.
//
// A personal number is personal data. [Number] therefore redacts itself in
// every textual form (String, fmt verbs including %#v, slog, text/JSON
// marshalling); only [Number.Digits] returns the digits, for explicit use such
// as pseudonymisation. Errors never contain the input.
//
// # CPR extracts
//
// [ParseExtract] streams an extract line by line and hands every person (001)
// and protection (015) record to a callback. Positions are 1-based byte
// positions; lines may end in CRLF or LF; bytes are never decoded, so records
// of other types may carry Latin-1 text. Record types other than 000, 001, 015
// and 999 are skipped and counted.
//
// A malformed person or protection line is rejected: it is counted and
// reported with its line number (never its content) and not emitted. The
// whole file is refused when
//
//   - it is empty ([ErrEmpty]),
//   - it lacks the 999 end record ([ErrTruncated]),
//   - it has no usable 000 start record and no operator override ([ErrNoStart]),
//   - or the share of rejected lines exceeds the threshold ([*RejectError]).
//
// Non-blank lines after the 999 end record are rejected lines
// ([ErrAfterEnd]), not a fatal error: a few stray trailing lines stay under the
// threshold and are reported, while a concatenated second extract exceeds it
// and the file is refused.
//
// Because entries are emitted while reading, a caller must stage them and
// discard the staged data when ParseExtract returns an error.
//
// [Person] folds the entries of one personal number into the facts the
// screening rules need: deceased status and active marketing protection.
package cprcheck

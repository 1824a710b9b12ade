// Package calllist reads and writes call lists (CSV and XLSX) for the
// robinscreen-screen command: the encoding decided over the whole file
// (UTF-8, Windows-1252, UTF-16 with or without a byte order mark), a
// "sep=" first line, delimiter detection, a CSV record reader that reports
// broken lines by number and carries on, a worksheet reader that reports
// cells it cannot read (formulas without a saved value, error values),
// column mapping from Danish and English headers, and writers in the
// input's own format that rename their file into place only when it is
// complete.
//
// Every row of the input comes back from the readers exactly once, in
// order, blank rows included, so that output row N can be input row N.
package calllist

// Package ingest is the reading layer shared by every reference-data file
// parser (the Robinson list, the CPR extract, the road register and the
// files later datasets add). A parser keeps only its layout; this package
// gives it, following docs/data-formats.md (rules R1 and R2, section 1.5):
//
//   - the encoding decision over the whole file (DetectEncoding, Open):
//     ISO 8859-1, or UTF-8 when the whole file is valid UTF-8 (a BOM is
//     stripped), never guessed per line. A file that holds both well-formed
//     multi-byte UTF-8 sequences and bytes that are not valid UTF-8 was
//     partly re-saved and is refused with an *EncodingError naming the
//     lines of each kind;
//   - a bounded line reader (Lines) that yields each line decoded to UTF-8
//     with its 1-based number, without CR, and reports a line longer than
//     the limit as too long instead of holding it in memory;
//   - progress counting (lines and bytes) through Options.Progress;
//   - reject accounting (Rejects) with the threshold check and the one
//     refusal error (*RejectError), whose message format every dataset
//     shares;
//   - Field, which cuts fixed-width fields by character position, so a
//     layout counts positions as the Latin-1 original does, also in a file
//     re-saved as UTF-8.
//
// Error texts of this package never contain file content: they name line
// numbers, counts and reasons only (reference data holds personal data).
// Callers wrap them with the file and dataset kind.
//
// The package is plain Go: it imports no storage and no transport.
package ingest

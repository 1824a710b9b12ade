// Package cvr reads the CVR advertising-protection data (reklamebeskyttelse,
// data-formats.md section 6) and checks CVR numbers and P-numbers as
// contacts write them (screening-rules.md section 2, step 5).
//
// Two layouts are read, both one record per line, streamed through the
// shared ingestion layer (package ingest) in constant memory: the Danish
// Business Authority's JSON documents (a company under "Vrvirksomhed", a
// production unit under "VrproduktionsEnhed", bare or wrapped as a search
// hit under "_source", or a whole search response whose hits.hits array
// holds them), and a CSV of a number column and a reklamebeskyttet column
// (ja/nej, true/false, 1/0). Parse decides the layout once, from the
// file's first non-blank line, and hands every accepted company and
// production unit to a callback; a line it cannot use is a counted,
// numbered reject, never silently dropped.
//
// CVR numbers and P-numbers identify companies and their workplaces: they
// are public register data, not personal numbers. Error texts of this
// package still never quote file content or a number: they name line
// numbers, counts and reasons only.
//
// The package is plain Go: it imports no storage and no transport.
package cvr

// Package roads reads CPR's road register (vejregister, data-formats.md
// section 5) and serves it to the Robinson matcher as robinson.Roads: the
// names of a list record's road (its Kommunekode + Vejkode) and the roads
// whose postal districts hold a contact's postcode and house number
// (screening-rules.md section 3.3).
//
// The register is reference data without personal data: road names,
// postcodes and house-number ranges. ParseLine knows the fixed-width
// layout of one line; Parse reads a whole file into an immutable Register.
// The package imports no storage or transport code.
package roads

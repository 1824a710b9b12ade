// Package synth generates deterministic synthetic data at population scale
// for robinscreen: a Robinson list in CPR's published layout (ISO 8859-1,
// fixed-width fields separated by '#', sorted by name), a CPR extract with
// person and protection records, and CRM contact lists whose contacts are
// listed persons written the messy ways contact lists write names and
// addresses, mixed with people who are not listed.
//
// Everything is a function of the seed (math/rand/v2 with PCG sources):
// the same Config gives byte-identical files. Person i is drawn from its
// own seed, so [Generator.Person] recomputes any listed person without
// generating the others, and [Generator.WriteRobinson] streams millions of
// records with memory of about 16 bytes per person (the sort index).
//
// The names, streets and postcodes are real Danish ones; the people are
// invented. The layouts come from package cprfmt.
package synth

// Package proccpu reads the CPU time the current process has used, for the
// benchmark tools (loadtest, benchkeys) that report CPU per contact.
package proccpu

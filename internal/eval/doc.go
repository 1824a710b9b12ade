// Package eval holds end-to-end quality checks of the Robinson matching:
// synthetic messy CRM lists screened through the real store and engine,
// measured against the outcome screening-rules.md section 3 prescribes.
package eval

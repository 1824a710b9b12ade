package cprcheck

import "time"

// Person folds the extract entries of one personal number. The zero Person
// is ready to use.
type Person struct {
	Status      Status // the status of the last 001 entry added
	HasStatus   bool   // whether a 001 entry was added
	Protections []Protection
}

// Add folds e into p. The caller is responsible for adding only entries of
// the same personal number. A person entry sets Status (the last one wins);
// a protection entry is appended. Entries of other kinds are ignored.
func (p *Person) Add(e Entry) {
	switch e.Kind {
	case EntryPerson:
		p.Status = e.Status
		p.HasStatus = true
	case EntryProtection:
		p.Protections = append(p.Protections, e.Protection)
	}
}

// Deceased reports whether p has status 90 (deceased).
func (p *Person) Deceased() bool { return p.HasStatus && p.Status.Deceased() }

// ProtectedOn reports whether p has a protection of type t active on the
// calendar date of d (see [Protection.ActiveOn]).
func (p *Person) ProtectedOn(t ProtectionType, d time.Time) bool {
	for _, pr := range p.Protections {
		if pr.Type == t && pr.ActiveOn(d) {
			return true
		}
	}
	return false
}

// MarketingProtectedOn reports whether p has a marketing protection (type
// 0003, the Robinson marking) active on the calendar date of d. Only type
// 0003 counts; name-and-address protection (0001) alone does not.
func (p *Person) MarketingProtectedOn(d time.Time) bool {
	return p.ProtectedOn(ProtectionMarketing, d)
}

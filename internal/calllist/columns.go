package calllist

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	pb "github.com/robinscreen/robinscreen/proto/robinscreen/v1"
)

// Field is a contact attribute a column can hold.
type Field string

// The fields a call list column can be mapped to (the names are the keys of
// the --col flag).
const (
	FieldName             Field = "name"
	FieldFirstName        Field = "first_name"
	FieldLastName         Field = "last_name"
	FieldAddress          Field = "address"
	FieldPostalCode       Field = "postal_code"
	FieldCity             Field = "city"
	FieldPhone            Field = "phone"
	FieldEmail            Field = "email"
	FieldCPR              Field = "cpr"
	FieldCVR              Field = "cvr"
	FieldPNumber          Field = "p_number"
	FieldConsent          Field = "consent"
	FieldExistingCustomer Field = "existing_customer"
	FieldOptedOut         Field = "opted_out"
	FieldChannel          Field = "channel"
	FieldPurpose          Field = "purpose"
)

// Fields lists every field in a stable order.
var Fields = []Field{FieldName, FieldFirstName, FieldLastName, FieldAddress, FieldPostalCode, FieldCity,
	FieldPhone, FieldEmail, FieldCPR, FieldCVR, FieldPNumber, FieldConsent, FieldExistingCustomer, FieldOptedOut,
	FieldChannel, FieldPurpose}

// headerNames maps normalised header names (see normalize) to fields,
// Danish and English alike.
var headerNames = map[string]Field{}

func init() {
	for f, names := range map[Field][]string{
		FieldName:             {"navn", "name", "fuldt navn", "full name", "fullname", "kundenavn", "customer name", "kontakt", "contact", "contact name", "kontaktperson", "modtager", "recipient"},
		FieldFirstName:        {"fornavn", "fornavne", "first name", "firstname", "given name", "given names", "forename"},
		FieldLastName:         {"efternavn", "last name", "lastname", "surname", "family name"},
		FieldAddress:          {"adresse", "address", "gade", "vej", "street", "vejnavn", "address line", "address1", "adresse1", "adresselinje", "gadeadresse", "street address", "postadresse"},
		FieldPostalCode:       {"postnr", "post nr", "postnummer", "postal code", "postalcode", "postcode", "post code", "zip", "zip code", "zipcode"},
		FieldCity:             {"by", "city", "town", "bynavn", "postdistrikt", "post distrikt", "postby"},
		FieldPhone:            {"telefon", "tlf", "tlf nr", "tlfnr", "telefonnr", "telefonnummer", "mobil", "mobilnr", "mobilnummer", "mobiltelefon", "phone", "phone number", "telephone", "mobile", "mobile phone", "cell", "cellphone"},
		FieldEmail:            {"email", "e-mail", "e mail", "mail", "emailadresse", "e-mailadresse", "email address", "e-mail address"},
		FieldCPR:              {"cpr", "cprnr", "cpr nr", "cpr-nr", "cprnummer", "cpr-nummer", "personnummer", "personnr", "cpr number", "personal number", "civil registration number"},
		FieldCVR:              {"cvr", "cvrnr", "cvr nr", "cvr-nr", "cvrnummer", "cvr-nummer", "cvr number", "company number", "business number"},
		FieldPNumber:          {"pnummer", "p-nummer", "pnr", "p-nr", "p nr", "p number", "p_number", "produktionsenhed", "production unit"},
		FieldConsent:          {"samtykke", "consent", "markedsføringssamtykke", "marketing consent", "har samtykke", "has consent", "tilladelse"},
		FieldExistingCustomer: {"kunde", "eksisterende kunde", "existing customer", "existingcustomer", "customer", "is customer", "er kunde", "kundeforhold"},
		FieldOptedOut:         {"frameldt", "afmeldt", "fravalgt", "opted out", "optedout", "opt out", "optout", "unsubscribed", "reklamefrabedt", "frabedt"},
		FieldChannel:          {"kanal", "channel"},
		FieldPurpose:          {"formål", "purpose", "formaal"},
	} {
		for _, n := range names {
			headerNames[normalize(n)] = f
		}
	}
}

// normalize folds a header name: lower case, Danish letters spelt out
// (æ→ae, ø→oe, å→aa), and everything but letters and digits removed.
func normalize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch r {
		case 'æ':
			b.WriteString("ae")
		case 'ø':
			b.WriteString("oe")
		case 'å':
			b.WriteString("aa")
		default:
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// Mapping tells which column holds which field, and the per-run channel and
// purpose.
type Mapping struct {
	cols    map[Field][]int
	header  []string
	Channel pb.Channel
	Purpose pb.Purpose
}

// MapColumns maps header columns to fields by name; overrides (field ->
// header name or 1-based column number) win over the automatic mapping, and
// an override to "" or "-" unmaps a field. It returns an error for unknown
// fields or columns in overrides and when no column identifies a contact.
func MapColumns(header []string, overrides map[string]string) (*Mapping, error) {
	m := &Mapping{cols: map[Field][]int{}, header: header}
	for i, h := range header {
		if f, ok := headerNames[normalize(h)]; ok {
			m.cols[f] = append(m.cols[f], i)
		}
	}
	known := map[Field]bool{}
	for _, f := range Fields {
		known[f] = true
	}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := overrides[k]
		f := Field(strings.ReplaceAll(strings.ToLower(k), "-", "_"))
		if !known[f] {
			return nil, fmt.Errorf("--col %s: unknown field (one of %v)", k, Fields)
		}
		if v == "" || v == "-" {
			delete(m.cols, f)
			continue
		}
		idx := -1
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= len(header) {
			idx = n - 1
		} else {
			for i, h := range header {
				if strings.EqualFold(strings.TrimSpace(h), strings.TrimSpace(v)) || normalize(h) == normalize(v) {
					idx = i
					break
				}
			}
		}
		if idx < 0 {
			// Name the column count, not the header: in a file without a
			// header row the "header" is the first contact.
			return nil, fmt.Errorf("--col %s=%s: no such column (give a header name or a column number 1-%d)", k, v, len(header))
		}
		m.cols[f] = []int{idx}
	}
	for _, f := range []Field{FieldName, FieldFirstName, FieldLastName, FieldAddress, FieldCPR, FieldCVR, FieldEmail, FieldPhone} {
		if len(m.cols[f]) > 0 {
			return m, nil
		}
	}
	return nil, fmt.Errorf("none of the header's %d columns names a contact (name, address, cpr, cvr, email or phone): is the first row a header? Map columns with --col FIELD=COLUMN-NUMBER", len(header))
}

// Describe lists the mapped fields for the log: field="Header" for a
// column with a known header name, else field=column N (1-based). A header
// cell that is not a known name is never shown: in a file without a header
// row it is the first contact's data.
func (m *Mapping) Describe() string {
	var parts []string
	for _, f := range Fields {
		for _, i := range m.cols[f] {
			if _, known := headerNames[normalize(m.header[i])]; known {
				parts = append(parts, fmt.Sprintf("%s=%q", f, m.header[i]))
			} else {
				parts = append(parts, fmt.Sprintf("%s=column %d", f, i+1))
			}
		}
	}
	return strings.Join(parts, " ")
}

// FieldAt returns the field mapped to a 0-based column, if any.
func (m *Mapping) FieldAt(col int) (Field, bool) {
	for _, f := range Fields {
		for _, i := range m.cols[f] {
			if i == col {
				return f, true
			}
		}
	}
	return "", false
}

// IdentifiesPerson tells whether the mapped columns can identify whom a row
// is about: a personal number, a name with an address, or a CVR number (a
// business). Without one the server can only answer REVIEW (or decide on
// consent alone); the reason names what is missing.
func (m *Mapping) IdentifiesPerson() (bool, string) {
	name := m.Has(FieldName) || m.Has(FieldFirstName) || m.Has(FieldLastName)
	switch {
	case m.Has(FieldCPR), m.Has(FieldCVR), name && m.Has(FieldAddress):
		return true, ""
	case name:
		return false, "there is a name column but no address column (and no CPR or CVR column): a name alone cannot be checked against the Robinson list"
	case m.Has(FieldAddress):
		return false, "there is an address column but no name column (and no CPR or CVR column): an address alone cannot be checked against the Robinson list"
	}
	return false, "no column holds a name, an address, a CPR number or a CVR number"
}

// Has tells whether a field is mapped.
func (m *Mapping) Has(f Field) bool { return len(m.cols[f]) > 0 }

func (m *Mapping) get(f Field, row []string) string {
	v, _ := m.getCol(f, row)
	return v
}

// getCol is get with the 1-based column the value came from (0 if none).
func (m *Mapping) getCol(f Field, row []string) (string, int) {
	for _, i := range m.cols[f] {
		if i < len(row) {
			if v := strings.TrimSpace(row[i]); v != "" {
				return v, i + 1
			}
		}
	}
	return "", 0
}

// Contact builds the contact of a row, with ref as its reference, and the
// channel and purpose to screen it for (the row's own when it has them,
// else the run's). It returns an error for a value it cannot read (a
// boolean, channel or purpose) or a missing channel; the error names the
// field and column, never the value (it goes to the errors file, and a
// shifted row can put a phone or CPR number in any column).
func (m *Mapping) Contact(row []string, ref string) (*pb.Contact, pb.Channel, pb.Purpose, error) {
	c := &pb.Contact{Ref: ref}
	c.Name = m.get(FieldName, row)
	if c.Name == "" {
		c.Name = strings.TrimSpace(m.get(FieldFirstName, row) + " " + m.get(FieldLastName, row))
	}
	c.Address = m.get(FieldAddress, row)
	c.PostalCode = m.get(FieldPostalCode, row)
	if city := m.get(FieldCity, row); city != "" && c.Address != "" {
		c.Address += ", " + strings.TrimSpace(c.PostalCode+" "+city)
	}
	c.Phone = m.get(FieldPhone, row)
	c.Email = m.get(FieldEmail, row)
	c.Cpr = m.get(FieldCPR, row)
	if isDigits(c.Cpr) && len(c.Cpr) == 9 {
		c.Cpr = "0" + c.Cpr // a spreadsheet dropped the leading zero
	}
	c.Cvr = m.get(FieldCVR, row)
	c.PNumber = m.get(FieldPNumber, row)
	// A value with bytes that are not text, or with characters the file's
	// encoding could not give (U+FFFD), cannot be matched: screening it as
	// read could come back ALLOW for a listed person.
	for _, f := range Fields {
		for _, i := range m.cols[f] {
			if i < len(row) && (!utf8.ValidString(row[i]) || strings.ContainsRune(row[i], utf8.RuneError)) {
				return nil, 0, 0, fmt.Errorf("%s (column %d): characters that could not be decoded; check the file's encoding (--encoding)", f, i+1)
			}
		}
	}
	var err error
	for _, b := range []struct {
		f   Field
		dst *bool
	}{{FieldConsent, &c.Consent}, {FieldExistingCustomer, &c.ExistingCustomer}, {FieldOptedOut, &c.OptedOut}} {
		v, col := m.getCol(b.f, row)
		if *b.dst, err = ParseBool(v); err != nil {
			return nil, 0, 0, fmt.Errorf("%s (column %d): not yes/no (ja/nej)", b.f, col)
		}
	}
	ch, purpose := m.Channel, m.Purpose
	if v, col := m.getCol(FieldChannel, row); v != "" {
		if ch, err = ParseChannel(v); err != nil {
			return nil, 0, 0, fmt.Errorf("%s (column %d): unknown channel (phone/telefon, email, sms, post/brev)", FieldChannel, col)
		}
	}
	if v, col := m.getCol(FieldPurpose, row); v != "" {
		if purpose, err = ParsePurpose(v); err != nil {
			return nil, 0, 0, fmt.Errorf("%s (column %d): unknown purpose (other/andet, books/bøger, periodical/abonnement, insurance/forsikring, rescue/redning)", FieldPurpose, col)
		}
	}
	if ch == pb.Channel_CHANNEL_UNSPECIFIED {
		return nil, 0, 0, fmt.Errorf("no channel: give --channel or a channel (kanal) column")
	}
	return c, ch, purpose, nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// ParseBool reads ja/nej, yes/no, true/false, 1/0, x, j/n, y/n (any case);
// empty is false. It returns an error for anything else.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "nej", "n", "no", "false", "f", "falsk", "-":
		return false, nil
	case "1", "ja", "j", "yes", "y", "true", "t", "sand", "x", "✓":
		return true, nil
	}
	return false, fmt.Errorf("%q is not yes/no (ja/nej)", s)
}

// ParseChannel reads a channel in Danish or English or as the enum name.
func ParseChannel(s string) (pb.Channel, error) {
	switch normalize(s) {
	case "phone", "telefon", "tlf", "opkald", "call", "channelphone", "telemarketing":
		return pb.Channel_CHANNEL_PHONE, nil
	case "email", "mail", "channelemail":
		return pb.Channel_CHANNEL_EMAIL, nil
	case "sms", "tekst", "text", "channelsms":
		return pb.Channel_CHANNEL_SMS, nil
	case "post", "brev", "letter", "mail post", "channelpost", "postal":
		return pb.Channel_CHANNEL_POST, nil
	}
	return 0, fmt.Errorf("unknown channel %q (phone/telefon, email, sms, post/brev)", s)
}

// ParsePurpose reads a purpose in Danish or English or as the enum name;
// empty is PURPOSE_UNSPECIFIED (which the server treats as other).
func ParsePurpose(s string) (pb.Purpose, error) {
	switch normalize(s) {
	case "":
		return pb.Purpose_PURPOSE_UNSPECIFIED, nil
	case "other", "andet", "oevrigt", "purposeother":
		return pb.Purpose_PURPOSE_OTHER, nil
	case "books", "boeger", "bog", "book", "purposebooks":
		return pb.Purpose_PURPOSE_BOOKS, nil
	case "periodical", "periodicalsubscription", "subscription", "abonnement", "tidsskrift", "blad", "avis", "bladabonnement", "purposeperiodicalsubscription":
		return pb.Purpose_PURPOSE_PERIODICAL_SUBSCRIPTION, nil
	case "insurance", "forsikring", "purposeinsurance":
		return pb.Purpose_PURPOSE_INSURANCE, nil
	case "rescue", "redning", "patienttransport", "rescueorpatienttransport", "redningogpatienttransport", "purposerescueorpatienttransport":
		return pb.Purpose_PURPOSE_RESCUE_OR_PATIENT_TRANSPORT, nil
	}
	return 0, fmt.Errorf("unknown purpose %q (other/andet, books/bøger, periodical/abonnement, insurance/forsikring, rescue/redning)", s)
}

package screening

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/robinscreen/robinscreen/cprcheck"
	"github.com/robinscreen/robinscreen/cvr"
	"github.com/robinscreen/robinscreen/robinson"
	"github.com/robinscreen/robinscreen/suppress"
)

// Errors returned by Engine.Screen for the request as a whole.
var (
	// ErrNoDataset means no Robinson list is loaded: nothing can be cleared.
	ErrNoDataset = errors.New("screening: no Robinson dataset loaded")
	// ErrChannel means the channel is missing or unknown.
	ErrChannel = errors.New("screening: channel missing or unknown")
)

// Engine applies the decision rules. The zero value uses time.Now.
type Engine struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Screen decides for one contact. It returns ErrNoDataset when snap has no
// Robinson list, ErrChannel for a missing channel, and storage errors from
// the datasets wrapped; every per-contact problem is a finding in the Result.
// It screens with a pooled Scratch (ScreenInto) and returns a copy of the
// Result that shares nothing with it.
func (e *Engine) Screen(snap Snapshot, ch Channel, purpose Purpose, c *Contact) (Result, error) {
	sc := scratchPool.Get().(*Scratch)
	defer scratchPool.Put(sc)
	res, err := e.ScreenInto(sc, snap, ch, purpose, c)
	if err != nil {
		return Result{}, err
	}
	return res.detach(), nil
}

// scratchPool holds the Scratches of Screen: their buffers (the parser's,
// the probe's) serve one call after the other.
var scratchPool = sync.Pool{New: func() any { return new(Scratch) }}

// resultStore backs the slices of a typical detached Result with one
// allocation.
type resultStore struct {
	findings [3]Finding
	datasets [2]DatasetRef
	reasons  [2]Reason
	outcomes [1]robinson.Outcome
}

// detach returns a copy of r that shares nothing with the Scratch it
// points into: its slices, and the outcomes its findings point to, are
// copied.
func (r *Result) detach() Result {
	st := new(resultStore)
	out := Result{Ref: r.Ref, Decision: r.Decision}
	out.Findings = append(st.findings[:0:min(len(r.Findings), len(st.findings))], r.Findings...)
	out.Datasets = append(st.datasets[:0:min(len(r.Datasets), len(st.datasets))], r.Datasets...)
	out.Reasons = append(st.reasons[:0:min(len(r.Reasons), len(st.reasons))], r.Reasons...)
	outcomes := st.outcomes[:0]
	for i := range out.Findings {
		if o := out.Findings[i].Robinson; o != nil {
			outcomes = append(outcomes, *o)
			out.Findings[i].Robinson = &outcomes[len(outcomes)-1]
		}
	}
	return out
}

// Scratch holds the buffers of one goroutine screening many contacts, so
// that a batch allocates them once. The zero value is ready to use; a
// Scratch must not be used by two goroutines at once.
type Scratch struct {
	res Result
	// Backing arrays sized for almost every contact; longer slices grow
	// out of them as usual.
	findings [3]Finding
	datasets [2]DatasetRef
	reasons  [2]Reason
	match    matchState
	// screener is the state of the contact being screened: here rather
	// than in ScreenInto's frame, which sits below the deepest calls of
	// a screening (doc.go, "Stack depth").
	screener screener
}

// ScreenInto is Screen with the buffers of sc. The returned Result, and
// everything it points to, is valid until the next call with sc. It returns
// the errors of Screen.
func (e *Engine) ScreenInto(sc *Scratch, snap Snapshot, ch Channel, purpose Purpose, c *Contact) (*Result, error) {
	if snap.Robinson == nil {
		return nil, ErrNoDataset
	}
	if ch < ChannelPhone || ch > ChannelPost {
		return nil, ErrChannel
	}
	sc.res = Result{Ref: c.Ref, Findings: sc.findings[:0], Datasets: sc.datasets[:0], Reasons: sc.reasons[:0]}
	s := &sc.screener
	*s = screener{now: e.now(), snap: snap, c: c, res: &sc.res, match: &sc.match}
	err := s.run(ch, purpose)
	// The scratch outlives the call (pools keep it): it keeps no snapshot,
	// contact, CPR record or raw identifier of the call. (The parser's
	// buffers and the probe still hold the parsed name and address, and
	// the probe the road register, until the next contact.)
	*s = screener{}
	sc.match.values = suppress.Values{}
	sc.match.matcher.Roads, sc.match.matcher.Family = nil, nil
	if err != nil {
		return nil, err
	}
	return &sc.res, nil
}

// screener holds the state of one contact's screening.
type screener struct {
	now   time.Time
	snap  Snapshot
	c     *Contact
	res   *Result
	match *matchState

	cprGiven   bool
	cprValid   bool
	cprNumber  cprcheck.Number
	person     cprcheck.Person
	personSeen bool // the number is in the loaded CPR extract
	usedStale  bool // a consulted dataset is stale
}

// add appends a finding. It is a call rather than inlined: each inlined
// Finding literal would take a slot of its own in the caller's frame
// (doc.go, "Stack depth").
//
//go:noinline
func (s *screener) add(f Finding) {
	s.res.Findings = append(s.res.Findings, f)
}

func (s *screener) reason(r Reason) {
	s.res.Reasons = append(s.res.Reasons, r)
}

// useInfo records the dataset d as consulted (use) and returns its
// version.
//
//go:noinline (its locals stay off the stack of the Robinson lookup)
func (s *screener) useInfo(d interface{ Info() DatasetInfo }) string {
	info := d.Info()
	s.use(info)
	return info.Version
}

func (s *screener) use(info DatasetInfo) {
	for _, d := range s.res.Datasets {
		if d.Kind == info.Kind {
			return
		}
	}
	stale := info.Stale(s.now)
	s.usedStale = s.usedStale || stale
	s.res.Datasets = append(s.res.Datasets, DatasetRef{Kind: info.Kind, Version: info.Version, Published: info.Published, Stale: stale})
}

func (s *screener) run(ch Channel, purpose Purpose) error {
	c := s.c
	if err := s.lookupCPR(); err != nil {
		return err
	}
	// 1. Deceased.
	if s.personSeen && s.person.Deceased() {
		s.add(Finding{Source: SourceCPR, Reason: ReasonDeceased, Decision: Block, Detail: "deceased (CPR status 90)", Dataset: s.cprVersion()})
		return s.finish(false)
	}
	// 2. The sender's own opt-out: the request's flag and the suppression
	// list the service keeps, for every channel.
	if c.OptedOut {
		s.add(Finding{Source: SourceRequest, Reason: ReasonOptedOut, Decision: Block, Detail: "on the sender's opt-out list"})
		return s.finish(false)
	}
	if s.suppressed() {
		return s.finish(false)
	}
	business := s.isBusiness()
	// 3. Explicit consent: the list checks run for information only.
	if c.Consent {
		s.add(Finding{Source: SourceRequest, Reason: ReasonConsent, Decision: Allow, Detail: "explicit consent to this sender"})
		if !business {
			if err := s.listChecks(); err != nil {
				return err
			}
		}
		return s.finish(true)
	}
	// 4. Channel gate.
	switch ch {
	case ChannelEmail, ChannelSMS:
		if !c.ExistingCustomer {
			s.add(Finding{Source: SourceRequest, Reason: ReasonNoConsent, Decision: Block, Detail: "electronic mail needs prior consent"})
			return s.finish(false)
		}
		s.add(Finding{Source: SourceRequest, Detail: "existing customer: own similar products (section 10(2))"})
	case ChannelPhone:
		if !business && !purpose.exempt() {
			s.add(Finding{Source: SourceRequest, Reason: ReasonNoConsent, Decision: Block, Detail: "phone marketing to consumers needs consent unless the purpose is exempt"})
			return s.finish(false)
		}
	}
	// 5. List checks. A business contact that also carries a name and an
	// address gets the consumer list checks too (it may be a person, e.g.
	// a sole proprietor): the strongest outcome wins.
	if business {
		if err := s.businessChecks(ch); err != nil {
			return err
		}
		if strings.TrimSpace(c.Name) != "" && strings.TrimSpace(c.Address) != "" {
			if err := s.listChecks(); err != nil {
				return err
			}
		}
		return s.finish(false)
	}
	if err := s.listChecks(); err != nil {
		return err
	}
	return s.finish(false)
}

// suppressed reports whether the sender's suppression list holds one of
// the contact's identifiers, after adding its finding.
//
//go:noinline (its locals stay off the stack of the list checks)
func (s *screener) suppressed() bool {
	c := s.c
	sl := s.snap.Suppressions
	if sl == nil || (c.Phone == "" && c.Email == "" && c.CPR == "" && c.CVR == "") {
		return false
	}
	v := &s.match.values // in the Scratch: the interface call would move a local to the heap
	*v = suppress.Values{Phone: c.Phone, Email: c.Email, CPR: c.CPR, CVR: c.CVR}
	e, ok := sl.Match(v, c.Scope)
	if ok {
		s.add(Finding{Source: SourceSuppression, Reason: ReasonOptedOut, Decision: Block, Detail: suppressionDetail(e.Key.Kind)})
	}
	return ok
}

// isBusiness reports a business contact: a CVR number and no personal number.
func (s *screener) isBusiness() bool {
	return strings.TrimSpace(s.c.CVR) != "" && !s.cprGiven
}

func (s *screener) lookupCPR() error {
	raw := strings.TrimSpace(s.c.CPR)
	if raw == "" {
		return nil
	}
	s.cprGiven = true
	n, err := cprcheck.Parse(raw)
	if err != nil {
		return nil // reported by listChecks as INVALID_CPR
	}
	s.cprValid, s.cprNumber = true, n
	if s.snap.CPR == nil {
		return nil
	}
	s.use(s.snap.CPR.Info())
	p, ok, err := s.snap.CPR.Lookup(n)
	if err != nil {
		return err
	}
	s.person, s.personSeen = p, ok
	return nil
}

func (s *screener) cprVersion() string {
	if s.snap.CPR == nil {
		return ""
	}
	return s.snap.CPR.Info().Version
}

// cprChecks adds the findings of the contact's personal number and
// reports whether the CPR extract could verify it.
//
//go:noinline (its locals stay off the stack of the Robinson lookup)
func (s *screener) cprChecks() (verifiable bool) {
	if s.cprGiven && !s.cprValid {
		s.add(Finding{Source: SourceRequest, Reason: ReasonInvalidCPR, Decision: Review, Detail: "personal number is not a valid DDMMYYSSSS / DDMMYY-SSSS number"})
	}
	if s.cprValid {
		switch {
		case s.snap.CPR == nil:
			s.add(Finding{Source: SourceCPR, Reason: ReasonUnverifiable, Decision: Review, Detail: "no CPR extract loaded: the marketing marking of the personal number cannot be checked"})
		case !s.personSeen:
			s.add(Finding{Source: SourceCPR, Detail: "personal number not in the loaded CPR extract", Dataset: s.cprVersion()})
		default:
			verifiable = true
			if s.person.MarketingProtectedOn(s.now) {
				s.add(Finding{Source: SourceCPR, Reason: ReasonCPRMarketingProtection, Decision: Block, Detail: "CPR marketing protection (type 0003) active", Dataset: s.cprVersion()})
			} else {
				s.add(Finding{Source: SourceCPR, Decision: Allow, Detail: "no active CPR marketing protection", Dataset: s.cprVersion()})
			}
		}
	}
	return verifiable
}

// listChecks is step 5 for consumers. Under consent its findings are
// recorded for information and do not change the decision.
func (s *screener) listChecks() error {
	verifiable := s.cprChecks()
	// Robinson list by name and address.
	rl := s.snap.Robinson
	version := s.useInfo(rl)
	// The parsed name and address live in the Scratch's buffers until the
	// next contact: nothing of them is kept in the Result.
	if s.match.parse(s.c) {
		verifiable = true
		if err := s.match.bestMatch(rl, s.snap.Streets); err != nil {
			return err
		}
		// The road register was consulted when a list record was compared
		// with it loaded: it can have made the street agree, or not.
		if s.snap.Streets != nil && s.match.compared > 0 {
			s.useInfo(s.snap.Streets)
		}
		s.robinsonFinding(version)
	} else {
		s.add(Finding{Source: SourceRobinson, Detail: "name and address (postcode and house number) not both given: the Robinson list cannot be checked", Dataset: version})
	}
	if !verifiable {
		s.add(Finding{Source: SourceRequest, Reason: ReasonUnverifiable, Decision: Review, Detail: "neither a personal number in the CPR extract nor a name with postcode and house number"})
	}
	return nil
}

// robinsonFinding adds the finding of the best outcome bestMatch found.
func (s *screener) robinsonFinding(version string) {
	// The Result points to the Scratch's copy of the outcome (one
	// Robinson finding per contact).
	o := &s.match.outcome
	*o = s.match.best
	switch o.Level {
	case robinson.Matched:
		s.add(Finding{Source: SourceRobinson, Reason: ReasonRobinsonList, Decision: Block, Detail: describe("on the Robinson list (", *o), Dataset: version, Robinson: o})
	case robinson.Possible:
		s.add(Finding{Source: SourceRobinson, Reason: ReasonRobinsonPossibleMatch, Decision: Review, Detail: describe("possibly on the Robinson list (", *o), Dataset: version, Robinson: o})
	default:
		s.add(Finding{Source: SourceRobinson, Decision: Allow, Detail: "not on the Robinson list", Dataset: version})
	}
}

// describe returns prefix, the outcome's agreements and a closing
// parenthesis, built in one concatenation.
func describe(prefix string, o robinson.Outcome) string {
	addr := "current address"
	if o.Previous {
		addr = "previous address"
	}
	return prefix + addr + ", name " + o.Name.String() + ", street " + o.Street.String() + ", floor/door " + o.Unit.String() + ")"
}

// matchState is the reusable state of bestMatch: the key buffer and the
// callback escape through the RobinsonList interface, so they live here,
// allocated once per Scratch rather than once per contact.
type matchState struct {
	key      [96]byte
	name     robinson.Name
	addr     robinson.Address
	best     robinson.Outcome
	probe    robinson.Probe
	matcher  robinson.Matcher
	compared int // list records compared with the contact
	visit    func(*robinson.Record)
	// parser holds the contact's parsed name and address (valid for one
	// contact), outcome the Robinson finding's outcome.
	parser  robinson.ContactParser
	outcome robinson.Outcome
	// values are the contact's values for the suppression list.
	values suppress.Values
}

// bestMatch returns the strongest outcome over every candidate record: the
// records under the blocking key of every surname word of the contact and,
// when none of them gave a match, the records at the contact's address
// whose surname is one edit from the contact's (a NEAR surname can give at
// most POSSIBLE, so it is not looked for once POSSIBLE is found).
func (m *matchState) bestMatch(rl RobinsonList, roads StreetRegister) error {
	if m.visit == nil {
		m.visit = func(rec *robinson.Record) {
			m.compared++
			// Most records of a busy blocking key are other people with
			// the surname: their given names rule them out before their
			// streets are compared.
			if !m.matcher.NamesMayAgree(m.name, rec.Name) {
				return
			}
			if o := m.matcher.Match(m.name, m.addr, rec); better(o, m.best) {
				m.best = o
			}
		}
	}
	if !m.reset(rl, roads) {
		return nil
	}
	surnames := m.name.Surnames
	for i, sn := range surnames {
		if dup(surnames[:i], sn) {
			continue
		}
		key := robinson.AppendKey(m.key[:0], m.addr.Postcode, m.addr.HouseNumber, sn)
		if err := rl.Candidates(key, &m.probe, m.visit); err != nil {
			return err
		}
	}
	if m.best.Level == robinson.NoMatch {
		return rl.NearCandidates(&m.probe, m.visit)
	}
	return nil
}

// reset readies m for the parsed contact in m.name and m.addr and reports
// whether any list record can match it.
//
//go:noinline (its locals stay off the stack of the Robinson lookup)
func (m *matchState) reset(rl RobinsonList, roads StreetRegister) bool {
	m.best, m.compared = robinson.Outcome{}, 0
	m.matcher.Family = rl.FamilyTypes()
	m.matcher.Roads = nil
	if roads != nil {
		m.matcher.Roads = roads
	}
	m.probe.Reset(m.name, m.addr, m.matcher.Roads)
	return !m.probe.None()
}

// parse parses the contact's name and address into m.name and m.addr (the
// postal code field, when valid, overrides the address's) and reports
// whether they can be matched with the list: a name, a postcode and a
// house number.
//
//go:noinline (its locals stay off the stack of the Robinson lookup)
func (m *matchState) parse(c *Contact) bool {
	name, nameErr := m.parser.ParseName(c.Name)
	addr, _ := m.parser.ParseAddress(c.Address)
	if pc, ok := PostalCode(c.PostalCode); ok {
		addr.Postcode = pc
	}
	m.name, m.addr = name, addr
	return nameErr == nil && addr.Postcode != "" && addr.HouseNumber != ""
}

func dup(words []string, w string) bool {
	for _, x := range words {
		if x == w {
			return true
		}
	}
	return false
}

// better orders outcomes: stronger level first, then a current address,
// then the stronger name agreement.
func better(o, than robinson.Outcome) bool {
	if o.Level != than.Level {
		return o.Level > than.Level
	}
	if o.Level == robinson.NoMatch {
		return false
	}
	if o.Previous != than.Previous {
		return !o.Previous
	}
	return o.Name > than.Name
}

// businessChecks is step 5 for business contacts on PHONE and POST
// (screening-rules.md section 2): the company's and, when the contact
// names one, the production unit's advertising protection in the loaded
// CVR data. Whatever cannot be checked is REVIEW, never ALLOW. It returns
// storage errors of the CVR data.
func (s *screener) businessChecks(ch Channel) error {
	if ch != ChannelPhone && ch != ChannelPost {
		return nil
	}
	n, err := cvr.ParseNumber(s.c.CVR)
	if err != nil {
		detail := "CVR number is not 8 digits"
		if errors.Is(err, cvr.ErrCVRCheck) {
			detail = "CVR number fails the modulus-11 check"
		}
		s.add(Finding{Source: SourceRequest, Reason: ReasonInvalidCVR, Decision: Review, Detail: detail})
		return nil
	}
	reg := s.snap.CVR
	if reg == nil {
		s.add(Finding{Source: SourceCVR, Reason: ReasonUnverifiable, Decision: Review, Detail: "no CVR data loaded: the business's advertising protection cannot be checked"})
		return nil
	}
	info := reg.Info()
	s.use(info)
	company, known, err := reg.Company(n)
	if err != nil {
		return err
	}
	switch {
	case !known:
		s.add(Finding{Source: SourceCVR, Reason: ReasonUnverifiable, Decision: Review, Detail: "CVR number not in the loaded CVR data", Dataset: info.Version})
	case company.Protected:
		s.add(Finding{Source: SourceCVR, Reason: ReasonCVRAdvertisingProtection, Decision: Block, Detail: "the company has advertising protection in CVR", Dataset: info.Version})
	default:
		s.add(Finding{Source: SourceCVR, Decision: Allow, Detail: "the company has no advertising protection in CVR", Dataset: info.Version})
	}
	if strings.TrimSpace(s.c.PNumber) == "" {
		return nil
	}
	p, err := cvr.ParsePNumber(s.c.PNumber)
	if err != nil {
		s.add(Finding{Source: SourceRequest, Reason: ReasonUnverifiable, Decision: Review, Detail: "P-number is not 10 digits: the production unit's advertising protection cannot be checked"})
		return nil
	}
	unit, known, err := reg.Unit(p)
	if err != nil {
		return err
	}
	switch {
	case !known:
		s.add(Finding{Source: SourceCVR, Reason: ReasonUnverifiable, Decision: Review, Detail: "P-number not in the loaded CVR data", Dataset: info.Version})
	case unit.Protected:
		s.add(Finding{Source: SourceCVR, Reason: ReasonCVRAdvertisingProtection, Decision: Block, Detail: "the production unit has advertising protection in CVR", Dataset: info.Version})
	case len(unit.Owners) > 0 && !slices.Contains(unit.Owners, n):
		// The contact's company and production unit do not belong
		// together: which one is meant is unclear.
		s.add(Finding{Source: SourceCVR, Reason: ReasonUnverifiable, Decision: Review, Detail: "the P-number belongs to another company in the loaded CVR data", Dataset: info.Version})
	default:
		s.add(Finding{Source: SourceCVR, Decision: Allow, Detail: "the production unit has no advertising protection in CVR", Dataset: info.Version})
	}
	return nil
}

// PostalCode extracts a 4-digit Danish postcode from a postal_code field
// ("2900", " 2900 ", "DK-2900", "2900 Hellerup"); ok is false when there is
// none.
func PostalCode(s string) (code string, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == 'D' || s[0] == 'd') && (s[1] == 'K' || s[1] == 'k') {
		s = strings.TrimLeft(s[2:], "- ")
	}
	if len(s) < 4 {
		return "", false
	}
	for i := 0; i < 4; i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	if len(s) > 4 && s[4] >= '0' && s[4] <= '9' {
		return "", false
	}
	return s[:4], true
}

// finish derives the decision and reasons from the findings. consent marks
// an ALLOW by explicit consent, which depends on no dataset.
func (s *screener) finish(consent bool) error {
	res := s.res
	if consent {
		res.Decision = Allow
		s.reason(ReasonConsent)
		return nil
	}
	res.Decision = Allow
	for _, f := range res.Findings {
		if f.Decision > res.Decision {
			res.Decision = f.Decision
		}
		if f.Reason != ReasonUnspecified && f.Decision > Allow && !hasReason(res.Reasons, f.Reason) {
			s.reason(f.Reason)
		}
	}
	// Rule 2.7: an ALLOW that depended on a stale dataset becomes REVIEW.
	if res.Decision == Allow && s.usedStale {
		res.Decision = Review
		s.reason(ReasonStaleData)
		s.add(Finding{Source: SourceRequest, Reason: ReasonStaleData, Decision: Review, Detail: "a dataset consulted is older than its maximum age"})
	}
	return nil
}

func hasReason(rs []Reason, r Reason) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// suppressionDetail names which of the contact's values is on the
// suppression list, never the value itself.
func suppressionDetail(k suppress.Kind) string {
	switch k {
	case suppress.KindPhone:
		return "phone number on the sender's suppression list"
	case suppress.KindEmail:
		return "e-mail address on the sender's suppression list"
	case suppress.KindCPR:
		return "personal number on the sender's suppression list"
	case suppress.KindCVR:
		return "CVR number on the sender's suppression list"
	}
	return "on the sender's suppression list"
}

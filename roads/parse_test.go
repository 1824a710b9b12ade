package roads

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/robinscreen/robinscreen/ingest"
	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/robinson"
)

// sample is a small register: two roads in 2100, one of them with an
// earlier name, a road with districts only, header, trailer and a skipped
// record type.
func sample() []string {
	return []string{
		cprfmt.RoadsStart(stamp),
		cprfmt.RoadRecord("0101", "2001", stamp, "Borgm Christiansensg", "Borgmester Christiansens Gade"),
		cprfmt.DistrictRecord("0101", "2001", "0001", "0099", "U", stamp, "2100", "København Ø"),
		cprfmt.DistrictRecord("0101", "2001", "0002", "0098", "L", stamp, "2100", "København Ø"),
		cprfmt.DistrictRecord("0101", "2001", "0100", "0200", "", stamp, "2150", "Nordhavn"),
		cprfmt.EarlierRecord("0101", "2001", stamp, stamp.AddDate(-40, 0, 0), stamp.AddDate(-10, 0, 0), "Christiansgade", "Christiansgade"),
		"00201012001" + strings.Repeat("9", 20), // a district of another kind
		cprfmt.RoadRecord("0101", "4242", stamp, "Fiktivvej", "Fiktivvej"),
		cprfmt.DistrictRecord("0101", "4242", "0001", "0050", "", stamp, "2100", "København Ø"),
		cprfmt.DistrictRecord("0101", "0777", "012B", "0020", "L", stamp, "2100", "København Ø"),
		"",
		cprfmt.RoadsEnd(9),
	}
}

func file(lines []string, latin1 bool) []byte {
	s := strings.Join(lines, "\r\n") + "\r\n"
	if !latin1 {
		return []byte(s)
	}
	b, err := cprfmt.Latin1(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestParse(t *testing.T) {
	for _, latin1 := range []bool{true, false} {
		reg, st, err := Parse(bytes.NewReader(file(sample(), latin1)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := Stats{Encoding: EncodingUTF8, Lines: 12, Blank: 1, Headers: 1, Trailers: 1, Skipped: 1, Roads: 2, Districts: 5, Earlier: 1, Date: Date{2026, 10, 1}}
		if latin1 {
			want.Encoding = EncodingLatin1
		}
		if !statsEqual(st, want) {
			t.Errorf("latin1=%v: stats %+v, want %+v", latin1, st, want)
		}
		if reg.Len() != 3 || reg.Districts() != 5 || reg.EarlierNames() != 1 || reg.Postcodes() != 2 {
			t.Errorf("register: %d roads, %d districts, %d earlier, %d postcodes", reg.Len(), reg.Districts(), reg.EarlierNames(), reg.Postcodes())
		}
		r, ok := reg.Road(robinson.RoadID{Kommune: 101, Vej: 2001})
		if !ok || r.Name != "Borgmester Christiansens Gade" || len(r.Districts) != 3 || len(r.Earlier) != 1 {
			t.Errorf("road 0101/2001: %+v %v", r, ok)
		}
		got := reg.RoadNames(robinson.RoadID{Kommune: 101, Vej: 2001})
		wantNames := []string{
			robinson.NormalizeStreet("Borgm Christiansensg"),
			robinson.NormalizeStreet("Borgmester Christiansens Gade"),
			robinson.NormalizeStreet("Christiansgade"),
		}
		if !slices.Equal(got, wantNames) {
			t.Errorf("RoadNames = %q, want %q", got, wantNames)
		}
		if got := reg.RoadNames(robinson.RoadID{Kommune: 101, Vej: 4242}); len(got) != 1 {
			t.Errorf("RoadNames(Fiktivvej) = %q, want one name (addressing = full)", got)
		}
		if got := reg.RoadNames(robinson.RoadID{Kommune: 101, Vej: 777}); got != nil {
			t.Errorf("RoadNames(districts only) = %q, want nil", got)
		}
		if got := reg.RoadNames(robinson.RoadID{Kommune: 999, Vej: 1}); got != nil {
			t.Errorf("RoadNames(unknown) = %q, want nil", got)
		}
	}
}

func statsEqual(a, b Stats) bool {
	return reflect.DeepEqual(a, b)
}

func TestParseRefused(t *testing.T) {
	good := sample()
	many := func(n int, bad string) []string {
		var ls []string
		for i := 0; i < n; i++ {
			ls = append(ls, cprfmt.DistrictRecord("0101", "2001", "0001", "0099", "", stamp, "2100", ""))
		}
		return append(ls, bad)
	}
	tests := []struct {
		name     string
		lines    []string
		opt      Options
		err      error
		rejected int
		lineNos  []int
		raw      []byte // appended to the encoded file
	}{
		{name: "empty file", lines: nil, err: ErrNoRoads},
		{name: "header and trailer only", lines: []string{cprfmt.RoadsStart(stamp), cprfmt.RoadsEnd(0)}, err: ErrNoRoads},
		{name: "only other record types", lines: []string{"002010120010001", "013010120010001"}, err: ErrNoRoads},
		{name: "a Robinson list", lines: []string{"ROBINSONLISTEN  Dato: 01.10.2026", "Hansen,Mette                      #Vestergade 1"}, err: ErrNoRoads, rejected: 2},
		{name: "one bad line in ten is too many", lines: append(slices.Clone(good), "004010120010x01"), err: &RejectError{}, rejected: 1, lineNos: []int{13}},
		{name: "one bad line in 1001 is accepted", lines: many(1000, "004010120010x01"), rejected: 1, lineNos: []int{1001}},
		{name: "one bad line in 1001, no rejects allowed", lines: many(1000, "004010120010x01"), opt: Options{MaxRejectRatio: -1}, err: &RejectError{}, rejected: 1},
		{name: "one bad line in ten, threshold raised", lines: append(slices.Clone(good), "VEJ"), opt: Options{MaxRejectRatio: 0.2}, rejected: 1, lineNos: []int{13}},
		{name: "too long line", lines: append(many(2000, "001"+strings.Repeat("x", MaxLineBytes+10)), "xx"), rejected: 2, lineNos: []int{2001, 2002}},
		{name: "partly re-saved as UTF-8", lines: append(slices.Clone(good), "004010120010001"), raw: []byte("016010120011\xc3\xb8\r\n"), err: ingest.ErrDamagedEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, st, err := Parse(bytes.NewReader(append(file(tt.lines, true), tt.raw...)), tt.opt)
			switch want := tt.err.(type) {
			case nil:
				if err != nil {
					t.Fatalf("error %v", err)
				}
			case *RejectError:
				var re *RejectError
				if !errors.As(err, &re) {
					t.Fatalf("error %v, want a RejectError", err)
				}
				_ = want
			default:
				if !errors.Is(err, tt.err) {
					t.Fatalf("error %v, want %v", err, tt.err)
				}
			}
			if st.Rejected != tt.rejected {
				t.Errorf("rejected %d, want %d", st.Rejected, tt.rejected)
			}
			for i, n := range tt.lineNos {
				if i >= len(st.Rejects) || st.Rejects[i].Line != n {
					t.Errorf("rejects %v, want lines %v", st.Rejects, tt.lineNos)
					break
				}
			}
		})
	}
}

func TestRejectErrorNamesLinesNotContent(t *testing.T) {
	lines := append(sample(), "004010120010Hemmelig", "004Hemmeligvej")
	_, _, err := Parse(bytes.NewReader(file(lines, true)), Options{})
	var re *RejectError
	if !errors.As(err, &re) {
		t.Fatalf("error %v", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "line 13:") || !strings.Contains(msg, "line 14:") || strings.Contains(msg, "Hemmelig") {
		t.Errorf("error %q: want the line numbers, not the content", msg)
	}
}

func TestRegisterRoadsAt(t *testing.T) {
	id := func(v uint16) robinson.RoadID { return robinson.RoadID{Kommune: 101, Vej: v} }
	d := func(v uint16, from, to, parity, postcode string) string {
		return cprfmt.DistrictRecord("0101", cprfmt.HouseNumber4(int(v), ""), from, to, parity, stamp, postcode, "")
	}
	lines := []string{
		d(1, "0001", "0099", "U", "2100"), // odd 1-99
		d(1, "0002", "0050", "L", "2100"), // even 2-50
		d(2, "0001", "0999", "", "2100"),  // all 1-999
		d(3, "010A", "020C", "L", "2100"), // even 10-20, letters ignored
		d(4, "0015", "0015", "", "2100"),  // only 15
		d(5, "0001", "0999", "", "2200"),  // another postcode
		d(6, "0040", "0060", "", "2100"),
		d(6, "0050", "0070", "", "2100"), // overlapping ranges of one road
	}
	reg, _, err := Parse(bytes.NewReader(file(lines, true)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		postcode string
		number   int
		want     []robinson.RoadID
	}{
		{"2100", 0, nil},
		{"2100", 1, []robinson.RoadID{id(1), id(2)}},
		{"2100", 2, []robinson.RoadID{id(1), id(2)}},
		{"2100", 9, []robinson.RoadID{id(1), id(2)}},
		{"2100", 10, []robinson.RoadID{id(1), id(2), id(3)}},
		{"2100", 11, []robinson.RoadID{id(1), id(2)}},
		{"2100", 15, []robinson.RoadID{id(1), id(2), id(4)}},
		{"2100", 20, []robinson.RoadID{id(1), id(2), id(3)}},
		{"2100", 22, []robinson.RoadID{id(1), id(2)}},
		{"2100", 50, []robinson.RoadID{id(1), id(2), id(6)}},
		{"2100", 52, []robinson.RoadID{id(2), id(6)}},
		{"2100", 55, []robinson.RoadID{id(1), id(2), id(6)}},
		{"2100", 70, []robinson.RoadID{id(2), id(6)}},
		{"2100", 71, []robinson.RoadID{id(1), id(2)}},
		{"2100", 99, []robinson.RoadID{id(1), id(2)}},
		{"2100", 100, []robinson.RoadID{id(2)}},
		{"2100", 999, []robinson.RoadID{id(2)}},
		{"2100", 1000, nil},
		{"2100", -1, nil},
		{"2200", 500, []robinson.RoadID{id(5)}},
		{"2300", 1, nil},
		{"", 1, nil},
	}
	for _, tt := range tests {
		got := reg.RoadsAt(tt.postcode, tt.number)
		if !slices.Equal(got, tt.want) {
			t.Errorf("RoadsAt(%q, %d) = %v, want %v", tt.postcode, tt.number, got, tt.want)
		}
	}
	// Brute force over every number against the districts themselves.
	for n := -2; n < 1100; n++ {
		var want []robinson.RoadID
		for r := range reg.Roads() {
			for _, dd := range r.Districts {
				if dd.Postcode == "2100" && dd.Holds(n) && !slices.Contains(want, r.ID) {
					want = append(want, r.ID)
				}
			}
		}
		if got := reg.RoadsAt("2100", n); !slices.Equal(got, want) {
			t.Errorf("RoadsAt(2100, %d) = %v, want %v", n, got, want)
		}
	}
}

func TestRegisterLookupsDoNotAllocate(t *testing.T) {
	reg, _, err := Parse(bytes.NewReader(file(sample(), true)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pc := []byte("2100")
	allocs := testing.AllocsPerRun(100, func() {
		reg.RoadsAt(string(pc[:]), 17)
		reg.RoadNames(robinson.RoadID{Kommune: 101, Vej: 2001})
	})
	if allocs != 0 {
		t.Errorf("%v allocations per lookup", allocs)
	}
}

func TestNilRegister(t *testing.T) {
	var reg *Register
	if reg.RoadsAt("2100", 1) != nil || reg.RoadNames(robinson.RoadID{Kommune: 1, Vej: 1}) != nil || reg.Len() != 0 {
		t.Error("a nil Register is not empty")
	}
}

func TestBuilderAddRoadRoundTrip(t *testing.T) {
	reg, _, err := Parse(bytes.NewReader(file(sample(), true)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var b Builder
	for r := range reg.Roads() {
		b.AddRoad(r)
	}
	again := b.Build()
	for r := range reg.Roads() {
		r2, ok := again.Road(r.ID)
		if !ok || r2.Name != r.Name || r2.AddressingName != r.AddressingName || !slices.Equal(r2.Districts, r.Districts) || !slices.Equal(r2.Earlier, r.Earlier) {
			t.Errorf("road %v: %+v, want %+v", r.ID, r2, r)
		}
		if !slices.Equal(again.RoadNames(r.ID), reg.RoadNames(r.ID)) {
			t.Errorf("road %v: names differ", r.ID)
		}
	}
}

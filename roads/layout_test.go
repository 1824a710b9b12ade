package roads

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/robinscreen/robinscreen/internal/cprfmt"
	"github.com/robinscreen/robinscreen/robinson"
)

var stamp = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

func TestParseLine(t *testing.T) {
	road := robinson.RoadID{Kommune: 101, Vej: 2001}
	tests := []struct {
		name string
		line string
		want Entry
		err  error
	}{
		{name: "active road", line: cprfmt.RoadRecord("0101", "2001", stamp, "Borgm Christiansensg", "Borgmester Christiansens Gade"),
			want: Entry{Kind: KindRoad, Type: "001", Road: road, AddressingName: "Borgm Christiansensg", Name: "Borgmester Christiansens Gade"}},
		{name: "active road, full width with trailing blanks", line: cprfmt.RoadRecord("0101", "2001", stamp, "Vestergade", "Vestergade") + strings.Repeat(" ", 30),
			want: Entry{Kind: KindRoad, Type: "001", Road: road, AddressingName: "Vestergade", Name: "Vestergade"}},
		{name: "active road, short line ends in the addressing name", line: cprfmt.RoadRecord("0101", "2001", stamp, "Vestergade", ""),
			want: Entry{Kind: KindRoad, Type: "001", Road: road, AddressingName: "Vestergade"}},
		{name: "active road, addressing name cut by the line end", line: cprfmt.RoadRecord("0101", "2001", stamp, "Vesterg", "")[:55],
			want: Entry{Kind: KindRoad, Type: "001", Road: road, AddressingName: "Vest"}},
		{name: "active road, Latin-1 letters count as one position", line: cprfmt.RoadRecord("0101", "2001", stamp, "Åboulevarden", "Åboulevarden"),
			want: Entry{Kind: KindRoad, Type: "001", Road: road, AddressingName: "Åboulevarden", Name: "Åboulevarden"}},
		{name: "active road, line ends before the names", line: cprfmt.RoadRecord("0101", "2001", stamp, "", ""), err: errNoName},
		{name: "active road, Kommunekode not digits", line: cprfmt.RoadRecord("01x1", "2001", stamp, "Vej", "Vej"), err: errKommune},
		{name: "active road, Kommunekode zero", line: cprfmt.RoadRecord("0000", "2001", stamp, "Vej", "Vej"), err: errKommune},
		{name: "active road, Vejkode blank", line: cprfmt.RoadRecord("0101", "    ", stamp, "Vej", "Vej"), err: errVej},
		{name: "type and codes only", line: "0010101", err: errVej},

		{name: "district, both parities", line: cprfmt.DistrictRecord("0101", "2001", "0001", "0099", "", stamp, "2100", "København Ø"),
			want: Entry{Kind: KindDistrict, Type: "004", Road: road, District: District{From: HouseNumber{1, 0}, To: HouseNumber{99, 0}, Postcode: "2100", Name: "København Ø"}}},
		{name: "district, even, letters", line: cprfmt.DistrictRecord("0101", "2001", "012B", "086C", "L", stamp, "2100", "København Ø"),
			want: Entry{Kind: KindDistrict, Type: "004", Road: road, District: District{From: HouseNumber{12, 'B'}, To: HouseNumber{86, 'C'}, Parity: Even, Postcode: "2100", Name: "København Ø"}}},
		{name: "district, odd, no district name (short line)", line: cprfmt.DistrictRecord("0101", "2001", "0001", "0999", "U", stamp, "2100", ""),
			want: Entry{Kind: KindDistrict, Type: "004", Road: road, District: District{From: HouseNumber{1, 0}, To: HouseNumber{999, 0}, Parity: Odd, Postcode: "2100"}}},
		{name: "district, same number with letters", line: cprfmt.DistrictRecord("0101", "2001", "012A", "012C", "", stamp, "2100", "X"),
			want: Entry{Kind: KindDistrict, Type: "004", Road: road, District: District{From: HouseNumber{12, 'A'}, To: HouseNumber{12, 'C'}, Postcode: "2100", Name: "X"}}},
		{name: "district, bad from", line: cprfmt.DistrictRecord("0101", "2001", "00x1", "0099", "", stamp, "2100", ""), err: errFrom},
		{name: "district, blank to", line: cprfmt.DistrictRecord("0101", "2001", "0001", "    ", "", stamp, "2100", ""), err: errTo},
		{name: "district, two letters", line: cprfmt.DistrictRecord("0101", "2001", "01AB", "0099", "", stamp, "2100", ""), err: errFrom},
		{name: "district, from above to", line: cprfmt.DistrictRecord("0101", "2001", "0100", "0099", "", stamp, "2100", ""), err: errRange},
		{name: "district, bad parity", line: cprfmt.DistrictRecord("0101", "2001", "0001", "0099", "X", stamp, "2100", ""), err: errParity},
		{name: "district, postcode missing", line: cprfmt.DistrictRecord("0101", "2001", "0001", "0099", "L", stamp, "", ""), err: errPostcode},
		{name: "district, postcode cut short", line: cprfmt.DistrictRecord("0101", "2001", "0001", "0099", "L", stamp, "21", ""), err: errPostcode},

		{name: "earlier name", line: cprfmt.EarlierRecord("0101", "2001", stamp, stamp.AddDate(-30, 0, 0), stamp.AddDate(-5, 0, 0), "Gl. Kirkestræde", "Gammel Kirkestræde"),
			want: Entry{Kind: KindEarlier, Type: "016", Road: road, AddressingName: "Gl. Kirkestræde", Name: "Gammel Kirkestræde"}},
		{name: "earlier name, no names", line: cprfmt.EarlierRecord("0101", "2001", stamp, stamp, stamp, "", ""), err: errNoName},

		{name: "header with date", line: cprfmt.RoadsStart(stamp), want: Entry{Kind: KindHeader, Type: "000", Date: Date{2026, 10, 1}}},
		{name: "header without date", line: "000VEJREGISTER", want: Entry{Kind: KindHeader, Type: "000"}},
		{name: "trailer", line: cprfmt.RoadsEnd(12), want: Entry{Kind: KindTrailer, Type: "999"}},
		{name: "other record type skipped", line: "00201012001xxxxxxxx", want: Entry{Kind: KindSkipped, Type: "002"}},
		{name: "other record type, short", line: "013", want: Entry{Kind: KindSkipped, Type: "013"}},
		{name: "record type not digits", line: "VEJ0101", err: errType},
		{name: "record type cut short", line: "00", err: errType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLine([]byte(tt.line))
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHouseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want HouseNumber
		ok   bool
	}{
		{"0012", HouseNumber{12, 0}, true},
		{"012B", HouseNumber{12, 'B'}, true},
		{"012b", HouseNumber{12, 'B'}, true},
		{"9999", HouseNumber{9999, 0}, true},
		{"  12", HouseNumber{12, 0}, true},
		{"0000", HouseNumber{0, 0}, true},
		{"", HouseNumber{}, false},
		{"B", HouseNumber{}, false},
		{"1B2", HouseNumber{}, false},
		{"-012", HouseNumber{}, false},
		{"12345", HouseNumber{}, false},
	}
	for _, tt := range tests {
		got, ok := houseNumber(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("houseNumber(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok && len(tt.in) == 4 && tt.in[0] != ' ' && tt.in[3] != 'b' && got.String() != tt.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}

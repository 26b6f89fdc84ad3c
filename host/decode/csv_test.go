package decode

import (
	"testing"
	"time"
)

var csvCfg = Config{
	Format: "csv",
	Columns: []Column{
		{Name: "ts", Type: "time"},
		{Name: "host", Type: "string"},
		{Name: "_"},
		{Name: "bytes", Type: "number"},
		{Name: "note"},
	},
	TimeField: "ts",
}

func TestCSVValid(t *testing.T) {
	d := mustNew(t, csvCfg)
	if !d.HasTime() {
		t.Fatal("HasTime() = false with a time column")
	}
	if got := d.Schema().Names(); len(got) != 3 || got[0] != "host" || got[1] != "bytes" || got[2] != "note" {
		t.Fatalf("schema = %v, want [host bytes note] (time and _ are not fields)", got)
	}
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	cases := []struct {
		name, line string
		want       want
		time       int64
	}{
		{"plain", "1714564800,web-1,ignored,1500,hi", want{"host": "web-1", "bytes": 1500.0, "note": "hi"}, t0},
		{"ms float", "1714564800000,a,,1.5e3,", want{"bytes": 1500.0, "note": ""}, t0},
		{"rfc3339 offset", "2024-05-01T14:00:00+02:00,a,x,-2.25,z", want{"bytes": -2.25}, t0},
		{"quoted", `1714564800,"web, 1","x",1500,"say ""hi"""`, want{"host": "web, 1", "note": `say "hi"`}, t0},
		{"quoted number with spaces", `1714564800,a,b," 42 ",c`, want{"bytes": 42.0}, t0},
		{"empty quoted last", `1714564800,a,b,1,""`, want{"note": ""}, t0},
		{"crlf", "1714564800,a,b,1,c\r\n", want{"note": "c"}, t0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row, err := decodeLine(d, c.line)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			checkRow(t, d, row, c.want)
			if row.Time != c.time {
				t.Errorf("Time = %d, want %d", row.Time, c.time)
			}
		})
	}
}

func TestCSVDelimiterAndTimeFormats(t *testing.T) {
	d := mustNew(t, Config{Format: "csv", Delimiter: '\t', TimeField: "t", TimeFormat: "us",
		Columns: []Column{{Name: "t", Type: "number"}, {Name: "v", Type: "number"}}})
	row, err := decodeLine(d, "1714564800000000\t3")
	if err != nil {
		t.Fatal(err)
	}
	// t is both a field (type number) and the event time
	checkRow(t, d, row, want{"t": 1714564800000000.0, "v": 3.0})
	if want := int64(1714564800) * 1e9; row.Time != want {
		t.Errorf("Time = %d, want %d", row.Time, want)
	}
}

func TestCSVMalformed(t *testing.T) {
	d := mustNew(t, csvCfg)
	cases := []struct{ name, line, reason, inMsg string }{
		{"empty", "", ReasonEmpty, "empty"},
		{"too few", "1714564800,a,b", ReasonColumns, "3 columns, want 5"},
		{"too many", "1714564800,a,b,1,c,d", ReasonColumns, "more than 5"},
		{"trailing delimiter", "1714564800,a,b,1,c,", ReasonColumns, "more than 5"},
		{"bad number", "1714564800,a,b,12kB,c", ReasonNumber, `column 3 (bytes): not a number "12kB"`},
		{"nan", "1714564800,a,b,NaN,c", ReasonNumber, "bytes"},
		{"empty number", "1714564800,a,b,,c", ReasonNumber, "bytes"},
		{"bad time", "yesterday,a,b,1,c", ReasonTime, `column 0 (ts): not a time "yesterday"`},
		{"bad date", "2024-02-30T00:00:00Z,a,b,1,c", ReasonTime, "ts"},
		{"unterminated quote", `1714564800,"abc,b,1,c`, ReasonQuote, "column 1 (host): unterminated"},
		{"text after quote", `1714564800,"abc"x,b,1,c`, ReasonQuote, "after closing quote"},
		{"long text truncated", "1714564800,a,b,123456789012345678901234567890123456789012345678901234567890x,c", ReasonNumber, "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := decodeLine(d, c.line)
			if err == nil {
				t.Fatalf("no error, want %q", c.reason)
			}
			if err.Reason != c.reason || !contains(err.Msg, c.inMsg) {
				t.Errorf("got %v, want reason %q and msg containing %q", err, c.reason, c.inMsg)
			}
		})
	}
}

func TestCSVZeroAllocs(t *testing.T) {
	d := mustNew(t, csvCfg)
	assertZeroAllocs(t, d, "1714564800,web-1,ignored,1500,hi")
	assertZeroAllocs(t, d, `2024-05-01T14:00:00.123+02:00,"web, 1","x",1.5e3,"q"`)
	assertZeroAllocs(t, d, `1714564800,a,b,1,"say ""hi"""`) // unescaping into Scratch, which is preallocated
}

func TestColumnConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Format: "csv"}, "columns: at least one column"},
		{Config{Format: "csv", Columns: []Column{{Name: "a"}, {Name: "b"}, {Name: "c"}, {Name: "d", Type: "nmber"}}}, `columns[3]: unknown type "nmber"`},
		{Config{Format: "csv", Columns: []Column{{Name: "a"}, {Name: "a"}}}, `columns[1]: name "a" already used by columns[0]`},
		{Config{Format: "csv", Columns: []Column{{Name: ""}}}, "columns[0]: name"},
		{Config{Format: "csv", Columns: []Column{{Name: "a"}}, TimeField: "b"}, `time_field: "b" is not one of the columns`},
		{Config{Format: "csv", Columns: []Column{{Name: "a", Type: "time"}, {Name: "b", Type: "time"}}}, "columns[1]: a second column"},
		{Config{Format: "csv", Columns: []Column{{Name: "a", Type: "time"}, {Name: "b"}}, TimeField: "b"}, `columns[0]: type "time" but time_field is "b"`},
		{Config{Format: "csv", Columns: []Column{{Name: "a"}}, TimeFormat: "s"}, "time_format: set but there is no time_field"},
		{Config{Format: "csv", Columns: []Column{{Name: "a", Type: "time"}}, TimeFormat: "minutes"}, `time_format: unknown format "minutes"`},
		{Config{Format: "csv", Columns: []Column{{Name: "a"}}, Delimiter: '"'}, "delimiter"},
		{Config{Format: "json", Columns: []Column{{Name: "_"}}}, "only makes sense for csv"},
		{Config{Format: "json", Columns: []Column{{Name: "a"}}, Delimiter: ';'}, "delimiter: only the csv format"},
		{Config{Format: "sflowtool", Delimiter: ';'}, "delimiter: the sflowtool format"},
		{Config{Format: "csv", Columns: []Column{{Name: "a"}, {Name: "b", Path: "x.y"}}}, "columns[1]: path is only for the json format"},
		{Config{Format: "json", Columns: []Column{{Name: "a", Path: "x..y"}}}, `columns[0]: path "x..y" has an empty segment`},
		{Config{Format: "json", Columns: []Column{{Name: "a", Path: "x.y"}, {Name: "b", Path: "x.y"}}}, `columns[1]: path "x.y" already used by columns[0]`},
	}
	for _, c := range cases {
		_, err := New(c.cfg)
		if err == nil || !contains(err.Error(), c.want) {
			t.Errorf("New(%+v) = %v, want error containing %q", c.cfg, err, c.want)
		}
	}
}

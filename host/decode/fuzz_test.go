package decode

import (
	"encoding/json"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidemark/tidemark/host/record"
)

// Each fuzz target asserts: no panic; a reason from the fixed set; and for a
// line that decodes, decoding it again gives the same row and re-encoding
// the row canonically and decoding that also gives the same row.

var knownReasons = map[string]bool{
	ReasonEmpty: true, ReasonColumns: true, ReasonNumber: true, ReasonIP: true, ReasonMAC: true,
	ReasonTime: true, ReasonQuote: true, ReasonJSON: true, ReasonType: true, ReasonMissing: true,
}

// decodeTwice decodes msg into two fresh rows and checks they agree.
func decodeTwice(t *testing.T, d Decoder, msg []byte) (*record.Row, *record.Error) {
	row := record.NewRow(d.Schema())
	err := d.Decode(msg, row)
	if err != nil {
		if !knownReasons[err.Reason] {
			t.Fatalf("unknown reason %q: %v", err.Reason, err)
		}
		return nil, err
	}
	again := record.NewRow(d.Schema())
	if err2 := d.Decode(msg, again); err2 != nil {
		t.Fatalf("second decode of the same line failed: %v", err2)
	}
	if diff := rowsEqual(d.Schema(), row, again); diff != nil {
		t.Fatalf("second decode differs: %v", diff)
	}
	return row, nil
}

func FuzzSflowtool(f *testing.F) {
	for _, s := range []string{flowLine, flowLine6, cntrLine, "", "FLOW,", "CNTR,1.2.3.4",
		// lines host/sflow renders from real captures (gopacket, goflow2)
		"FLOW,10.1.248.22,531,0,b8ca3a6df040,3c8ab0e75441,0x0800,514,0,10.1.14.22,54.240.235.69,6,0x00,64,30461,80,0x10,1490,1472,16000",
		"CNTR,10.1.248.22,522,6,10000000000,1,3,327115139476491,3406683542,436422,123,0,0,0,57184089570462,1449403761,7363268,592113,0,0,0",
		"CNTR,10.0.0.2,7,6,10000000000,1,3,18446744073709551615,1000,20,5,0,1,0,987654321,900,10,2,0,0,2",
		"FLOW,10.0.0.1,3,5,00:16:3e:1a:2b:3c,0050569a0b0c,0x0800,0,0,IP: 192.0.2.10,-,6,0x00,64,1,2,0x02,60,46,1"} {
		f.Add([]byte(s))
	}
	d := mustNew(f, Config{Format: "sflowtool"})
	s := d.Schema()
	typ, _, _ := s.Lookup("type")
	f.Fuzz(func(t *testing.T, msg []byte) {
		if a, perr := netip.ParseAddr(string(msg)); isIPv4(msg) != (perr == nil && a.Is4()) {
			t.Fatalf("isIPv4(%q) = %v, netip disagrees", msg, isIPv4(msg))
		}
		row, err := decodeTwice(t, d, msg)
		if err != nil {
			return
		}
		// re-encode canonically: ints in decimal, hex as 0x, MACs as 12 digits
		fields := sfFlowFields
		if string(row.Str[typ]) == "CNTR" {
			fields = sfCntrFields
		}
		var b strings.Builder
		b.Write(row.Str[typ])
		for _, fl := range fields {
			slot, _, _ := s.Lookup(fl.name)
			b.WriteByte(',')
			switch fl.kind {
			case sfIP:
				if len(row.Str[slot]) == 0 {
					b.WriteByte('-')
				} else {
					b.Write(row.Str[slot])
				}
			case sfMAC:
				b.WriteString(leftPad(strconv.FormatUint(uint64(row.Num[slot]), 16), 12))
			case sfHex:
				b.WriteString("0x" + strconv.FormatUint(uint64(row.Num[slot]), 16))
			case sfInt:
				b.WriteString(strconv.FormatFloat(row.Num[slot], 'f', -1, 64))
			}
		}
		checkReencoded(t, d, row, b.String())
	})
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

func checkReencoded(t *testing.T, d Decoder, row *record.Row, line string) {
	t.Helper()
	again := record.NewRow(d.Schema())
	if err := d.Decode([]byte(line), again); err != nil {
		t.Fatalf("re-encoded line %q: %v", line, err)
	}
	if diff := rowsEqual(d.Schema(), row, again); diff != nil {
		t.Fatalf("re-encoded line %q differs: %v", line, diff)
	}
}

// encodable reports whether t can be written back as RFC 3339 for the
// round trip (the parser accepts years 1678..2261).
func encodable(ns int64) bool {
	y := time.Unix(0, ns).UTC().Year()
	return y >= 1678 && y <= 2261
}

func FuzzCSV(f *testing.F) {
	for _, s := range []string{"1714564800,web-1,ignored,1500,hi", `2024-05-01T14:00:00+02:00,"a ""b""",,1e3,"x,y"`,
		`1,"unterminated,a,1,b`, "1,a,b,1,c,d", "", `1,"a"b,c,1,d`} {
		f.Add([]byte(s))
	}
	d := mustNew(f, csvCfg)
	s := d.Schema()
	f.Fuzz(func(t *testing.T, msg []byte) {
		row, err := decodeTwice(t, d, msg)
		if err != nil || !encodable(row.Time) {
			return
		}
		host, _, _ := s.Lookup("host")
		bytesSlot, _, _ := s.Lookup("bytes")
		note, _, _ := s.Lookup("note")
		q := func(b []byte) string { return `"` + strings.ReplaceAll(string(b), `"`, `""`) + `"` }
		line := time.Unix(0, row.Time).UTC().Format(time.RFC3339Nano) + "," + q(row.Str[host]) + ",_," +
			strconv.FormatFloat(row.Num[bytesSlot], 'g', -1, 64) + "," + q(row.Str[note])
		if strings.ContainsAny(line, "\r\n") {
			return // a line never holds a newline; CR at the end is trimmed as CRLF
		}
		checkReencoded(t, d, row, line)
	})
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"ts":1714564800,"dev":{"name":"s1","temp":21.5},"ok":true,"msg":"hi"}`,
		`{"ts":"2024-05-01T12:00:00Z","dev":{"name":"caf\u00e9","temp":"4"},"ok":0,"msg":"\ud83d\ude00","x":[1,{"y":null}]}`,
		`{"a":1}`, `[]`, `{"ts":1,`, `{"ts":01}`, ``} {
		f.Add([]byte(s))
	}
	d := mustNew(f, jsonCfg)
	s := d.Schema()
	f.Fuzz(func(t *testing.T, msg []byte) {
		row, err := decodeTwice(t, d, msg)
		line := trimEOL(msg)
		switch {
		case err == nil && !json.Valid(line):
			t.Fatalf("accepted invalid JSON %q", line)
		case err != nil && err.Reason == ReasonJSON && json.Valid(line) && !strings.Contains(err.Msg, "nesting too deep") && !strings.Contains(err.Msg, "want an object"):
			t.Fatalf("rejected valid JSON %q: %v", line, err)
		}
		if err != nil || !encodable(row.Time) {
			return
		}
		get := func(name string) int { i, _, _ := s.Lookup(name); return i }
		num := func(name string) any {
			v := row.Num[get(name)]
			if v == math.Trunc(v) && math.Abs(v) < 1e15 {
				return int64(v)
			}
			return v
		}
		obj := map[string]any{
			"ts":  time.Unix(0, row.Time).UTC().Format(time.RFC3339Nano),
			"dev": map[string]any{"name": string(row.Str[get("device")]), "temp": num("temp")},
			"ok":  num("ok"),
			"msg": string(row.Str[get("msg")]),
		}
		out, jerr := json.Marshal(obj)
		if jerr != nil {
			t.Fatal(jerr)
		}
		if !isValidUTF8(row.Str[get("device")]) || !isValidUTF8(row.Str[get("msg")]) {
			return // json.Marshal replaces invalid UTF-8, so the round trip cannot match
		}
		checkReencoded(t, d, row, string(out))
	})
}

func isValidUTF8(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

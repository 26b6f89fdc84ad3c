package decode

import (
	"testing"
	"time"
)

var jsonCfg = Config{
	Format: "json",
	Columns: []Column{
		{Name: "ts", Type: "time"},
		{Name: "device", Type: "string", Path: "dev.name"},
		{Name: "temp", Type: "number", Path: "dev.temp"},
		{Name: "ok", Type: "number"},
		{Name: "msg", Type: "string"},
	},
	TimeField: "ts",
}

func TestJSONValid(t *testing.T) {
	d := mustNew(t, jsonCfg)
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	cases := []struct {
		name, line string
		want       want
		time       int64
	}{
		{"plain", `{"ts":1714564800,"dev":{"name":"s1","temp":21.5},"ok":true,"msg":"hi"}`,
			want{"device": "s1", "temp": 21.5, "ok": 1.0, "msg": "hi"}, t0},
		{"spaces, order, extras", " { \"msg\" : \"x\" , \"other\": [1, {\"a\": null}, \"s\"], \"ok\": false,\n \"dev\": {\"x\": {}, \"temp\": -1e2, \"name\": \"s2\"}, \"ts\": \"2024-05-01T12:00:00Z\" } ",
			want{"device": "s2", "temp": -100.0, "ok": 0.0, "msg": "x"}, t0},
		{"escapes", `{"ts":1714564800000,"dev":{"name":"caf\u00e9 \"1\"\n","temp":"42"},"ok":1,"msg":"\ud83d\ude00\/"}`,
			want{"device": "café \"1\"\n", "temp": 42.0, "msg": "😀/"}, t0},
		{"escaped key", `{"t\u0073":1714564800,"d\u0065v":{"name":"n","temp":0},"ok":0,"msg":""}`,
			want{"device": "n", "temp": 0.0}, t0},
		{"number as string field, duplicate key last wins", `{"ts":1714564800,"dev":{"name":12.50,"temp":1},"ok":0,"msg":"a","msg":"b"}`,
			want{"device": "12.50", "msg": "b"}, t0},
		{"lone surrogate", `{"ts":1714564800,"dev":{"name":"\ud800x","temp":1},"ok":0,"msg":""}`,
			want{"device": "\uFFFDx"}, t0},
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

func TestJSONMalformed(t *testing.T) {
	d := mustNew(t, jsonCfg)
	const rest = `"dev":{"name":"s","temp":1},"ok":1,"msg":"m"`
	cases := []struct{ name, line, reason, inMsg string }{
		{"empty", "  ", ReasonEmpty, "empty"},
		{"not an object", `[1,2]`, ReasonJSON, "want an object"},
		{"truncated", `{"ts":1714564800,` + rest, ReasonJSON, "unterminated object"},
		{"trailing comma", `{"ts":1714564800,` + rest + `,}`, ReasonJSON, "want a key"},
		{"trailing text", `{"ts":1714564800,` + rest + `} x`, ReasonJSON, "text after the object"},
		{"bad literal", `{"ts":1714564800,"x":tru,` + rest + `}`, ReasonJSON, "bad literal"},
		{"leading zero", `{"ts":1714564800,"x":01,` + rest + `}`, ReasonJSON, "want ',' or '}'"},
		{"bad fraction", `{"ts":1714564800,"x":1.,` + rest + `}`, ReasonJSON, "bad fraction"},
		{"bad escape", `{"ts":1714564800,"x":"\q",` + rest + `}`, ReasonJSON, "bad escape"},
		{"control char", "{\"ts\":1714564800,\"x\":\"a\tb\"," + rest + "}", ReasonJSON, "control character"},
		{"missing colon", `{"ts" 1714564800,` + rest + `}`, ReasonJSON, "want ':'"},
		{"unterminated string", `{"ts":1714564800,"x":"abc`, ReasonJSON, "unterminated string"},
		{"missing field", `{"ts":1714564800,"dev":{"name":"s"},"ok":1,"msg":"m"}`, ReasonMissing, `field "dev.temp" (column 2): missing or null`},
		{"null field", `{"ts":1714564800,"dev":{"name":"s","temp":null},"ok":1,"msg":"m"}`, ReasonMissing, "dev.temp"},
		{"object for number", `{"ts":1714564800,"dev":{"name":"s","temp":{"c":1}},"ok":1,"msg":"m"}`, ReasonType, `field "dev.temp" (column 2): got an object`},
		{"array for string", `{"ts":1714564800,"dev":{"name":["s"],"temp":1},"ok":1,"msg":"m"}`, ReasonType, "got an array"},
		{"string not a number", `{"ts":1714564800,"dev":{"name":"s","temp":"warm"},"ok":1,"msg":"m"}`, ReasonNumber, `field "dev.temp" (column 2): not a number "warm"`},
		{"number out of range", `{"ts":1714564800,"dev":{"name":"s","temp":1e999},"ok":1,"msg":"m"}`, ReasonNumber, "out of range"},
		{"bad time", `{"ts":"soon",` + rest + `}`, ReasonTime, `field "ts" (column 0): not a time "soon"`},
		{"bool time", `{"ts":true,` + rest + `}`, ReasonType, "bool"},
		{"missing time", `{` + rest + `}`, ReasonMissing, `field "ts"`},
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

func TestJSONDepthLimit(t *testing.T) {
	d := mustNew(t, Config{Format: "json", Columns: []Column{{Name: "a", Type: "number"}}})
	deep := `{"a":1,"x":`
	for i := 0; i < 200; i++ {
		deep += "["
	}
	for i := 0; i < 200; i++ {
		deep += "]"
	}
	deep += "}"
	_, err := decodeLine(d, deep)
	if err == nil || err.Reason != ReasonJSON || !contains(err.Msg, "nesting too deep") {
		t.Errorf("got %v, want json: nesting too deep", err)
	}
}

func TestJSONZeroAllocs(t *testing.T) {
	d := mustNew(t, jsonCfg)
	assertZeroAllocs(t, d, `{"ts":1714564800,"dev":{"name":"s1","temp":21.5},"ok":true,"msg":"hi","extra":[1,2,{"z":null}]}`)
	assertZeroAllocs(t, d, `{"ts":"2024-05-01T12:00:00.5+02:00","dev":{"name":"caf\u00e9","temp":"7"},"ok":0,"msg":"x"}`)
	assertZeroAllocs(t, d, `{"t\u0073":1714564800,"dev":{"name":"s1","temp":21.5},"ok":true,"msg":"hi"}`)
}

func TestJSONTimeFieldKeptAsField(t *testing.T) {
	d := mustNew(t, Config{Format: "json", TimeField: "at", TimeFormat: "ms",
		Columns: []Column{{Name: "at", Type: "number"}, {Name: "v", Type: "number", Path: "m.v"}}})
	if !d.HasTime() {
		t.Fatal("HasTime() = false")
	}
	row, err := decodeLine(d, `{"m":{"v":2},"at":1714564800000}`)
	if err != nil {
		t.Fatal(err)
	}
	checkRow(t, d, row, want{"at": 1714564800000.0, "v": 2.0})
	if want := int64(1714564800) * 1e9; row.Time != want {
		t.Errorf("Time = %d, want %d", row.Time, want)
	}
	noTime := mustNew(t, Config{Format: "json", Columns: []Column{{Name: "v", Type: "number"}}})
	if noTime.HasTime() {
		t.Error("HasTime() = true without a time field")
	}
}

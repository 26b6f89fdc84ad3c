package decode

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	base := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	cases := []struct {
		in   string
		f    timeFormat
		want int64
		ok   bool
	}{
		{"1714564800", timeAuto, base, true},
		{"1714564800.5", timeAuto, base + 5e8, true},
		{"1714564800123", timeAuto, base + 123e6, true},
		{"1714564800123456", timeAuto, base + 123456e3, true},
		{"1714564800123456789", timeAuto, base + 123456789, true},
		{"1.7145648e9", timeAuto, base, true},
		{"1714564800", timeMS, 1714564800 * 1e6, true},
		{"1714564800.123456789", timeS, base + 123456789, true},
		{"1714564800.1234567891", timeS, base + 123456789, true},
		{"-1", timeS, -1e9, true},
		{"2024-05-01T12:00:00Z", timeAuto, base, true},
		{"2024-05-01 12:00:00.25z", timeAuto, base + 25e7, true},
		{"2024-05-01T08:30:00-03:30", timeRFC3339, base, true},
		{"2024-02-29T00:00:00Z", timeRFC3339, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC).UnixNano(), true},
		{"2023-02-29T00:00:00Z", timeRFC3339, 0, false},
		{"2024-05-01T12:00:00", timeRFC3339, 0, false},
		{"2024-05-01T24:00:00Z", timeRFC3339, 0, false},
		{"2024-05-01T12:00:00.Z", timeRFC3339, 0, false},
		{"1714564800", timeRFC3339, 0, false},
		{"99999999999999999999", timeS, 0, false},
		{"10000000000", timeS, 0, false}, // past 2262 in ns
		{"", timeAuto, 0, false},
		{"abc", timeAuto, 0, false},
	}
	for _, c := range cases {
		got, ok := parseTime([]byte(c.in), c.f)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("parseTime(%q, %d) = %d, %v; want %d, %v", c.in, c.f, got, ok, c.want, c.ok)
		}
	}
}

func TestRFC3339MatchesTimePackage(t *testing.T) {
	for _, s := range []string{"1999-12-31T23:59:59.999999999+14:00", "1970-01-01T00:00:00Z", "2261-12-31T23:59:59Z", "1678-01-01T00:00:00Z", "2000-02-29T01:02:03.000001-00:30"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseRFC3339([]byte(s))
		if !ok || got != want.UnixNano() {
			t.Errorf("parseRFC3339(%q) = %d, %v; want %d", s, got, ok, want.UnixNano())
		}
	}
}

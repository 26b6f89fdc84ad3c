package window

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder collects what a script reports; Fatalf stops the script.
type recorder struct{ msgs []string }

type stopScript struct{}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(stopScript{})
}

func runRecorded(t *testing.T, text string) []string {
	path := filepath.Join(t.TempDir(), "x.test")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if _, ok := v.(stopScript); !ok {
					panic(v)
				}
			}
		}()
		runScript(rec, path)
	}()
	return rec.msgs
}

// The runner fails scripts whose expectations do not hold.
func TestScriptRunnerFails(t *testing.T) {
	const head = "schema host:str bytes:num\nwindow size=10s lateness=0s group_by=host aggs=sum(bytes)\n" +
		"add t=1s host=a bytes=5\nadd t=2s host=b bytes=1\n"
	cases := map[string]struct{ script, want string }{
		"passes":        {head + "advance 10s\nexpect window 0s host=a sum_bytes=5\nexpect window 0s host=b sum_bytes=1\n", ""},
		"wrong value":   {head + "advance 10s\nexpect window 0s host=a sum_bytes=6\nexpect window 0s host=b sum_bytes=1\n", "sum_bytes = 5, want 6"},
		"out of bound":  {head + "advance 10s\nexpect window 0s host=a sum_bytes=6~10%\nexpect window 0s host=b sum_bytes=1\n", "want 6 ± 0.6"},
		"absent":        {head + "advance 10s\nexpect window 0s host=a sum_bytes=-\nexpect window 0s host=b sum_bytes=1\n", "5, want absent"},
		"unmatched":     {head + "advance 10s\nexpect window 0s host=a sum_bytes=5\n", "unexpected point in window 0s: host=b sum_bytes=1"},
		"missing point": {head + "expect window 0s host=a sum_bytes=5\n", "no point in window 0s with tags [a]"},
		"not none":      {head + "advance 10s\nexpect none\n", "unexpected point"},
		"late":          {head + "expect late 1\n", "late = 0, want 1"},
		"bad directive": {head + "frobnicate\n", `unknown directive "frobnicate"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			msgs := runRecorded(t, c.script)
			if c.want == "" {
				if len(msgs) != 0 {
					t.Fatalf("unexpected failures: %q", msgs)
				}
				return
			}
			if !strings.Contains(strings.Join(msgs, "\n"), c.want) {
				t.Fatalf("failures %q do not mention %q", msgs, c.want)
			}
		})
	}
}

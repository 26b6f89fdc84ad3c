package synth

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tidemark/tidemark/abi"
)

// Golden is a plugin's golden test case: encoded windows (concatenated
// inputs; each carries its own total_len) and the alerts they must raise.
type Golden struct {
	Dir     string // the plugin's testdata directory
	Options map[string]any
}

func (g Golden) paths() (bin, alerts, opts string) {
	return filepath.Join(g.Dir, "windows.bin"), filepath.Join(g.Dir, "alerts.json"), filepath.Join(g.Dir, "options.json")
}

// Write stores inputs, options and the expected records (used with -update).
func (g Golden) Write(inputs []*abi.Input, recs []Record) error {
	bin, alerts, opts := g.paths()
	var buf []byte
	for _, in := range inputs {
		buf = in.Encode(buf)
	}
	if err := os.WriteFile(bin, buf, 0o644); err != nil {
		return err
	}
	js, _ := json.MarshalIndent(recs, "", "  ")
	if err := os.WriteFile(alerts, append(js, '\n'), 0o644); err != nil {
		return err
	}
	js, _ = json.MarshalIndent(g.Options, "", "  ")
	return os.WriteFile(opts, append(js, '\n'), 0o644)
}

// Load returns the stored windows (each encoded input) and records.
func (g Golden) Load() (windows [][]byte, recs []Record, opts map[string]any, err error) {
	bin, alerts, optsPath := g.paths()
	b, err := os.ReadFile(bin)
	if err != nil {
		return nil, nil, nil, err
	}
	for len(b) > 0 {
		if len(b) < abi.HeaderSize {
			return nil, nil, nil, fmt.Errorf("%s: trailing %d bytes", bin, len(b))
		}
		n := int(binary.LittleEndian.Uint32(b[12:]))
		if n > len(b) || n < abi.HeaderSize {
			return nil, nil, nil, fmt.Errorf("%s: bad total_len %d", bin, n)
		}
		// Copy so each window is 8-byte aligned.
		windows = append(windows, bytes.Clone(b[:n]))
		b = b[n:]
	}
	js, err := os.ReadFile(alerts)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := json.Unmarshal(js, &recs); err != nil {
		return nil, nil, nil, err
	}
	js, err = os.ReadFile(optsPath)
	if err != nil {
		return nil, nil, nil, err
	}
	err = json.Unmarshal(js, &opts)
	return windows, recs, opts, err
}

// Compare fails t when got differs from want, showing the first difference.
func Compare(t testing.TB, got, want []Record) {
	t.Helper()
	if reflect.DeepEqual(got, want) || (len(got) == 0 && len(want) == 0) {
		return
	}
	for i := range max(len(got), len(want)) {
		var g, w any = "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("alert %d differs (%d alerts, want %d):\n got  %+v\n want %+v", i, len(got), len(want), g, w)
		}
	}
}

// DecodeInput decodes a stored window back into the record conversion's
// needs (tag values and field names).
func DecodeInput(b []byte) (*abi.Input, error) {
	v, err := abi.Decode(b)
	if err != nil {
		return nil, err
	}
	in := &abi.Input{Series: v.NumSeries()}
	for f := range v.NumFields() {
		in.FieldNames = append(in.FieldNames, v.FieldName(f))
	}
	for t := range v.NumTags() {
		in.TagNames = append(in.TagNames, v.TagName(t))
	}
	for s := range v.NumSeries() {
		for t := range v.NumTags() {
			in.SeriesTags = append(in.SeriesTags, uint32(len(in.Dict)))
			in.Dict = append(in.Dict, v.TagValue(s, t))
		}
	}
	return in, nil
}

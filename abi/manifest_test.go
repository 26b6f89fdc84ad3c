package abi

import (
	"errors"
	"strings"
	"testing"
)

const testManifest = `{
  "name": "deviation", "version": "1.0.0", "abi": "1.0", "history": true,
  "future_key": {"ignored": true},
  "options": {
    "field":  {"type": "string", "required": true},
    "factor": {"type": "number", "default": 3, "min": 1},
    "mode":   {"type": "string", "default": "ratio", "enum": ["ratio", "diff"]},
    "tags":   {"type": "[]string", "default": ["a"]},
    "quiet":  {"type": "bool", "default": false}
  }
}`

func TestManifestOptions(t *testing.T) {
	m, err := ParseManifest([]byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.ResolveOptions(map[string]any{"field": "sum_bytes", "factor": int64(5), "tags": []any{"x", "y"}})
	if err != nil {
		t.Fatal(err)
	}
	if got["factor"] != 5.0 || got["mode"] != "ratio" || got["quiet"] != false || len(got["tags"].([]string)) != 2 {
		t.Fatalf("resolved %v", got)
	}
	js, err := m.OptionsJSON(map[string]any{"field": "f"})
	if err != nil || !strings.Contains(string(js), `"factor":3`) {
		t.Fatalf("OptionsJSON = %s, %v", js, err)
	}

	err = m.CheckOptions(map[string]any{"factor": "5", "mode": "sum", "colour": 1, "tags": []any{1}, "quiet": 1.0})
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{
		`option "factor": want a number, got string "5"`,
		`option "mode": "sum" is not one of ratio, diff`,
		`option "colour" is not defined by module "deviation"`,
		`option "tags": want a list of strings`,
		`option "quiet": want true or false, got number 1`,
		`option "field" is required`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if err := m.CheckOptions(map[string]any{"field": "f", "factor": 0.5}); err == nil || !strings.Contains(err.Error(), "below the minimum") {
		t.Errorf("min not enforced: %v", err)
	}
}

func TestManifestValidate(t *testing.T) {
	for name, js := range map[string]string{
		"abi major":    `{"name":"x","version":"1","abi":"2.0"}`,
		"abi format":   `{"name":"x","version":"1","abi":"1"}`,
		"name":         `{"name":"X Y","version":"1","abi":"1.0"}`,
		"no version":   `{"name":"x","abi":"1.0"}`,
		"option type":  `{"name":"x","version":"1","abi":"1.0","options":{"a":{"type":"int"}}}`,
		"default type": `{"name":"x","version":"1","abi":"1.0","options":{"a":{"type":"bool","default":"yes"}}}`,
		"capability":   `{"name":"x","version":"1","abi":"1.0","capabilities":["net"]}`,
		"json":         `{"name":`,
	} {
		if _, err := ParseManifest([]byte(js)); err == nil {
			t.Errorf("%s: accepted %s", name, js)
		}
	}
}

// minimal valid module: header + an empty type section.
var tinyWasm = []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 1, 1, 0}

func TestAppendAndReadManifest(t *testing.T) {
	if _, err := ReadManifest(tinyWasm); !errors.Is(err, ErrNoManifest) {
		t.Fatalf("ReadManifest without section = %v", err)
	}
	m, err := ParseManifest([]byte(testManifest))
	if err != nil {
		t.Fatal(err)
	}
	w, err := AppendManifest(tinyWasm, m)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = "2.0.0"
	w, err = AppendManifest(w, m) // replaces, does not add
	if err != nil {
		t.Fatal(err)
	}
	secs, err := walkSections(w)
	if err != nil || len(secs) != 2 || secs[0].id != 1 {
		t.Fatalf("sections %+v, %v", secs, err)
	}
	got, err := ReadManifest(w)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "2.0.0" || got.Options["factor"].Default != 3.0 || !got.History {
		t.Fatalf("read back %+v", got)
	}
	for name, bad := range map[string][]byte{
		"magic":     []byte("\x00asn\x01\x00\x00\x00"),
		"truncated": append(append([]byte(nil), tinyWasm[:8]...), 1, 5, 0),
		"leb":       append(append([]byte(nil), tinyWasm[:8]...), 0, 0xff, 0xff, 0xff, 0xff, 0xff),
	} {
		if _, err := ReadManifest(bad); err == nil || errors.Is(err, ErrNoManifest) {
			t.Errorf("%s: ReadManifest = %v", name, err)
		}
	}
}

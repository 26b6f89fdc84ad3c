package main

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
)

// captureStdout runs fn with os.Stdout redirected and returns what it wrote.
func captureStdout(t *testing.T, fn func() error) (string, error) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ferr := fn()
	os.Stdout = old
	w.Close()
	return <-done, ferr
}

func builtPlugin(t *testing.T, name string) string {
	t.Helper()
	p := "../../plugins/" + name + ".wasm"
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not built: run `make plugins`", p)
	}
	return p
}

func TestPluginTestFixture(t *testing.T) {
	wasm := builtPlugin(t, "deviation")
	out, err := captureStdout(t, func() error {
		return runPluginTest(context.Background(), []string{wasm, "--input", "testdata/spike.json"})
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want a header and one alert, got:\n%s", out)
	}
	for _, want := range []string{"crit", "anomaly", "dst_ip=198.51.100.1", "sum_packets", "1000", "100"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("alert line %q lacks %q", lines[1], want)
		}
	}
}

func TestPluginTestRejectsBadOptions(t *testing.T) {
	wasm := builtPlugin(t, "deviation")
	_, err := captureStdout(t, func() error {
		return runPluginTest(context.Background(), []string{wasm, "--input", "testdata/spike.json", "--options", `{"fields":["sum_packets"],"factr":3}`})
	})
	if err == nil || !strings.Contains(err.Error(), `option "factr" is not defined by module "deviation"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPluginInspect(t *testing.T) {
	wasm := builtPlugin(t, "zscore")
	out, err := captureStdout(t, func() error { return runPluginInspect(context.Background(), []string{wasm}) })
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name     zscore", "abi      1.0", "threshold", "tidemark_analyze", "tidemark_v1.input_read"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
}

func TestPluginInspectTruncated(t *testing.T) {
	b, err := os.ReadFile(builtPlugin(t, "zscore"))
	if err != nil {
		t.Fatal(err)
	}
	p := t.TempDir() + "/cut.wasm"
	if err := os.WriteFile(p, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = captureStdout(t, func() error { return runPluginInspect(context.Background(), []string{p}) })
	if err == nil || !strings.Contains(err.Error(), "cut.wasm") {
		t.Fatalf("err = %v, want an error naming the file", err)
	}
}

// Command tidemark-manifest appends a manifest custom section to a wasm
// module (Go cannot emit custom sections) or prints a module's manifest.
//
//	tidemark-manifest -m manifest.json module.wasm   # validate, append in place
//	tidemark-manifest module.wasm                     # print the manifest
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/tidemark/tidemark/abi"
)

func main() {
	manifest := flag.String("m", "", "manifest JSON file to append (replaces an existing one)")
	out := flag.String("o", "", "output file (default: rewrite the module in place)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: tidemark-manifest [-m manifest.json] [-o out.wasm] module.wasm")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *manifest, *out); err != nil {
		fmt.Fprintln(os.Stderr, "tidemark-manifest:", err)
		os.Exit(1)
	}
}

func run(path, manifestPath, out string) error {
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if manifestPath == "" {
		m, err := abi.ReadManifest(wasm)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		b, _ := json.MarshalIndent(m, "", "  ")
		fmt.Println(string(b))
		return nil
	}
	js, err := os.ReadFile(manifestPath)
	if err != nil {
		return err
	}
	m, err := abi.ParseManifest(js)
	if err != nil {
		return fmt.Errorf("%s: %w", manifestPath, err)
	}
	w, err := abi.AppendManifest(wasm, m)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if out == "" {
		out = path
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, w, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

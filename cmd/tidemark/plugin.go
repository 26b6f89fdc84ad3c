package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidemark/tidemark/abi"
	"github.com/tidemark/tidemark/host/config"
	"github.com/tidemark/tidemark/host/runtime"
	"github.com/tidemark/tidemark/registry"
)

func init() {
	register(command{name: "plugin", summary: "list, inspect, test and scaffold analyzer modules", run: runPlugin})
	pluginCommands["list"] = pluginCommand{summary: "modules in the plugins dir: name, version, ABI, hash, instances, state", run: runPluginList}
	pluginCommands["inspect"] = pluginCommand{summary: "a module's manifest, exports, imports and option schema", run: runPluginInspect}
	pluginCommands["test"] = pluginCommand{summary: "run analyze on a recorded input and print the alerts", run: runPluginTest}
}

func runPlugin(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, "usage: tidemark plugin <command> [flags]\n\ncommands:")
		names := make([]string, 0, len(pluginCommands))
		for n := range pluginCommands {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, pluginCommands[n].summary)
		}
		return flag.ErrHelp
	}
	c, ok := pluginCommands[args[0]]
	if !ok {
		return fmt.Errorf("unknown plugin command %q (try: tidemark plugin -h)", args[0])
	}
	return c.run(ctx, args[1:])
}

// liveAnalyzer is what a running tidemark reports at /api/analyzers.
type liveAnalyzer struct {
	Name, Module, State, LastError string
	Failures                       uint64
}

func runPluginList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("plugin list", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config file (counts its [[analyzer]] instances; its plugins.dir is the default dir)")
	dir := fs.String("dir", "", "plugins directory (default: plugins.dir of -c, or plugins)")
	server := fs.String("server", "", "a running tidemark's HTTP address (e.g. http://127.0.0.1:8080) for live instance states")
	if err := fs.Parse(args); err != nil {
		return err
	}
	instances := map[string][]string{}
	d := "plugins"
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath, nil)
		if err != nil {
			return err
		}
		d = cfg.Plugins.Dir
		for _, a := range cfg.Analyzer {
			instances[a.Module] = append(instances[a.Module], a.Name)
		}
	}
	if *dir != "" {
		d = *dir
	}
	rt, err := runtime.New(ctx, runtime.NewConfig())
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	reg, err := registry.Open(ctx, registry.Config{Dir: d, Runtime: rt, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer reg.Close(ctx)
	live := map[string][]liveAnalyzer{}
	if *server != "" {
		var list []liveAnalyzer
		if err := getJSON(ctx, strings.TrimSuffix(*server, "/")+"/api/analyzers", &list); err != nil {
			return fmt.Errorf("--server: %w", err)
		}
		for _, a := range list {
			live[a.Module] = append(live[a.Module], a)
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tABI\tHASH\tINSTANCES\tSTATE\tFILE")
	for _, m := range reg.Modules() {
		state := string(m.State)
		insts := strings.Join(instances[m.Name], ",")
		if l, ok := live[m.Name]; ok {
			var names []string
			for _, a := range l {
				names = append(names, a.Name)
				if a.State != "ok" {
					state = a.State
				}
			}
			insts = strings.Join(names, ",")
		}
		if insts == "" {
			insts = "-"
		}
		if m.Err != "" {
			state += ": " + m.Err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, dash(m.Version), dash(m.ABI), shortHash(m.Hash), insts, state, m.Path)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return dash(h)
}

func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", url, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func runPluginInspect(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("plugin inspect", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: tidemark plugin inspect FILE.wasm")
	}
	path := fs.Arg(0)
	wasm, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	rt, err := runtime.New(ctx, runtime.NewConfig())
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer m.Close(ctx)
	man, merr := abi.ReadManifest(wasm)
	if merr != nil && !errors.Is(merr, abi.ErrNoManifest) {
		return fmt.Errorf("%s: manifest: %w", path, merr)
	}
	if *asJSON {
		return json.NewEncoder(os.Stdout).Encode(map[string]any{
			"file": path, "size": len(wasm), "hash": m.Hash(), "manifest": man, "exports": m.Exports(), "imports": m.Imports(),
		})
	}
	fmt.Printf("file     %s (%d bytes)\nhash     %s\n", path, len(wasm), m.Hash())
	if man == nil {
		fmt.Println("manifest none (options are not checked; add one with tidemark-manifest)")
	} else {
		fmt.Printf("name     %s\nversion  %s\nabi      %s\n", man.Name, man.Version, man.ABI)
		if man.Description != "" {
			fmt.Printf("about    %s\n", man.Description)
		}
		if len(man.Capabilities) > 0 {
			fmt.Printf("needs    %s\n", strings.Join(man.Capabilities, ", "))
		}
		fmt.Printf("history  %v\n", man.History)
		if len(man.Options) > 0 {
			fmt.Println("options:")
			names := make([]string, 0, len(man.Options))
			for n := range man.Options {
				names = append(names, n)
			}
			sort.Strings(names)
			tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
			for _, n := range names {
				o := man.Options[n]
				def := "-"
				if o.Required {
					def = "required"
				} else if o.Default != nil {
					b, _ := json.Marshal(o.Default)
					def = string(b)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", n, o.Type, def, o.Description)
			}
			tw.Flush()
		}
	}
	fmt.Printf("exports  %s\nimports  %s\n", strings.Join(m.Exports(), " "), strings.Join(m.Imports(), " "))
	return nil
}

// fixture is the JSON form of a recorded input for `plugin test` (an
// encoded ABI input, .bin, is accepted too).
type fixture struct {
	Instance    string     `json:"instance"`
	Pipeline    string     `json:"pipeline"`
	WindowStart time.Time  `json:"window_start"`
	WindowEnd   time.Time  `json:"window_end"`
	TagNames    []string   `json:"tag_names"`
	FieldNames  []string   `json:"field_names"`
	Series      [][]string `json:"series"`
	Frames      []fixFrame `json:"frames"` // current window first, then history newest first
	Flags       []string   `json:"flags"`  // history_incomplete, history_offset
	Options     any        `json:"options"`
	_           struct{}   `json:"-"`
}

type fixFrame struct {
	Start  time.Time    `json:"start"`
	Values [][]*float64 `json:"values"` // [field][series]; null = missing
}

func (f *fixture) input() (*abi.Input, error) {
	in := &abi.Input{
		Instance: f.Instance, Pipeline: f.Pipeline, TagNames: f.TagNames, FieldNames: f.FieldNames,
		WindowStart: f.WindowStart.UnixNano(), WindowEnd: f.WindowEnd.UnixNano(), Series: len(f.Series),
	}
	size := f.WindowEnd.Sub(f.WindowStart)
	dict := map[string]uint32{}
	for i, s := range f.Series {
		if len(s) != len(f.TagNames) {
			return nil, fmt.Errorf("series[%d] has %d tags, want %d", i, len(s), len(f.TagNames))
		}
		for _, v := range s {
			idx, ok := dict[v]
			if !ok {
				idx = uint32(len(in.Dict))
				dict[v] = idx
				in.Dict = append(in.Dict, v)
			}
			in.SeriesTags = append(in.SeriesTags, idx)
		}
	}
	for _, fl := range f.Flags {
		switch fl {
		case "history_incomplete":
			in.Flags |= abi.FlagHistoryIncomplete
		case "history_offset":
			in.Flags |= abi.FlagHistoryOffset
		default:
			return nil, fmt.Errorf("unknown flag %q", fl)
		}
	}
	for i, fr := range f.Frames {
		if len(fr.Values) != len(f.FieldNames) {
			return nil, fmt.Errorf("frames[%d] has %d fields, want %d", i, len(fr.Values), len(f.FieldNames))
		}
		af := abi.Frame{Start: fr.Start.UnixNano(), End: fr.Start.Add(size).UnixNano()}
		for j, col := range fr.Values {
			if len(col) != len(f.Series) {
				return nil, fmt.Errorf("frames[%d].values[%d] has %d values, want %d", i, j, len(col), len(f.Series))
			}
			c := make([]float64, len(col))
			for s, v := range col {
				if v == nil {
					c[s] = math.NaN()
				} else {
					c[s] = *v
				}
			}
			af.Columns = append(af.Columns, c)
		}
		in.Frames = append(in.Frames, af)
	}
	return in, in.Validate()
}

// collectHost records what a guest does during `plugin test`.
type collectHost struct {
	alerts [][]byte
	logs   []string
	state  map[string][]byte
}

func (h *collectHost) EmitAlert(raw []byte) error { h.alerts = append(h.alerts, raw); return nil }
func (h *collectHost) Log(level int, msg string) {
	h.logs = append(h.logs, fmt.Sprintf("[%d] %s", level, msg))
}
func (h *collectHost) StateGet(k string) ([]byte, bool) { v, ok := h.state[k]; return v, ok }
func (h *collectHost) StateSet(k string, v []byte) error {
	h.state[k] = v
	return nil
}
func (h *collectHost) Query([]byte) ([]byte, error) {
	return nil, errors.New("plugin test: no InfluxDB to query")
}

func runPluginTest(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("plugin test", flag.ContinueOnError)
	inputPath := fs.String("input", "", "recorded input: an ABI input (.bin) or a JSON fixture (.json)")
	optsJSON := fs.String("options", "", "instance options as JSON (default: the fixture's options, or {})")
	caps := fs.String("capabilities", "", "comma-separated capabilities to grant")
	timeout := fs.Duration("timeout", time.Second, "per-call deadline")
	if err := fs.Parse(reorderFlags(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 || *inputPath == "" {
		return errors.New("usage: tidemark plugin test FILE.wasm --input FIXTURE [--options JSON]")
	}
	wasm, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(*inputPath)
	if err != nil {
		return err
	}
	var opts []byte
	var input []byte
	var series func(i uint32) string
	var fields []string
	if strings.EqualFold(filepath.Ext(*inputPath), ".json") {
		var fx fixture
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fx); err != nil {
			return fmt.Errorf("%s: %w", *inputPath, err)
		}
		in, err := fx.input()
		if err != nil {
			return fmt.Errorf("%s: %w", *inputPath, err)
		}
		input = in.Encode(nil)
		if fx.Options != nil {
			opts, _ = json.Marshal(fx.Options)
		}
	} else {
		input = raw
	}
	view, err := abi.Decode(input)
	if err != nil {
		return fmt.Errorf("%s: %w", *inputPath, err)
	}
	for f := 0; f < view.NumFields(); f++ {
		fields = append(fields, view.FieldName(f))
	}
	series = func(i uint32) string {
		if i == abi.NoIndex {
			return "-"
		}
		var parts []string
		for t := 0; t < view.NumTags(); t++ {
			parts = append(parts, view.TagName(t)+"="+view.TagValue(int(i), t))
		}
		return strings.Join(parts, ",")
	}
	if *optsJSON != "" {
		opts = []byte(*optsJSON)
	}
	if opts == nil {
		opts = []byte("{}")
	}
	if man, err := abi.ReadManifest(wasm); err == nil {
		var m map[string]any
		if err := json.Unmarshal(opts, &m); err != nil {
			return fmt.Errorf("--options: %w", err)
		}
		if opts, err = man.OptionsJSON(m); err != nil {
			return fmt.Errorf("--options: %w", err)
		}
	}
	rt, err := runtime.New(ctx, runtime.NewConfig().WithCallTimeout(*timeout))
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	m, err := rt.Compile(ctx, wasm)
	if err != nil {
		return err
	}
	h := &collectHost{state: map[string][]byte{}}
	var capList []string
	if *caps != "" {
		capList = strings.Split(*caps, ",")
	}
	start := time.Now()
	inst, err := m.Instantiate(ctx, runtime.InstanceConfig{Name: "plugin-test", Options: opts, Capabilities: capList, Host: h})
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	defer inst.Close(ctx)
	initDur := time.Since(start)
	start = time.Now()
	callErr := inst.Analyze(ctx, input)
	callDur := time.Since(start)
	for _, l := range h.logs {
		fmt.Fprintln(os.Stderr, "log", l)
	}
	if out := inst.Output(); len(out) > 0 {
		fmt.Fprintf(os.Stderr, "guest output:\n%s\n", out)
	}
	if callErr != nil {
		return fmt.Errorf("analyze: %w", callErr)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEVERITY\tKIND\tSERIES\tFIELD\tOBSERVED\tEXPECTED\tBAND\tMESSAGE")
	for _, b := range h.alerts {
		a, err := abi.DecodeAlert(b)
		if err != nil {
			return fmt.Errorf("guest emitted a bad alert: %w", err)
		}
		field := "-"
		if a.Field != abi.NoIndex && int(a.Field) < len(fields) {
			field = fields[a.Field]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%g\t%g\t[%g, %g]\t%s\n", a.Severity, a.Kind, series(a.Series), field, a.Observed, a.Expected, a.Lower, a.Upper, a.Message)
	}
	tw.Flush()
	fmt.Fprintf(os.Stderr, "%d alerts; %d series, %d frames; init %v, analyze %v\n", len(h.alerts), view.NumSeries(), view.NumFrames(), initDur.Round(time.Microsecond), callDur.Round(time.Microsecond))
	return nil
}

// reorderFlags lets flags follow the positional FILE argument, as people
// type them (`plugin test x.wasm --input f.json`).
func reorderFlags(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

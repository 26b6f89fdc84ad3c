package main

import "context"

// pluginCommand is one subcommand of `tidemark plugin`. Each lives in its own
// file and registers itself in init, like the top-level commands.
type pluginCommand struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var pluginCommands = map[string]pluginCommand{}

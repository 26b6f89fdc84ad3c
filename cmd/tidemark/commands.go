package main

import "context"

// command is one subcommand. Each lives in its own file and registers itself
// in init, so subcommands can be added without touching main.go.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

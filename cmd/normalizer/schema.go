package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/yongjin-dev/yongjin/pkg/events"
)

const schemaUsage = `usage: normalizer schema [TYPE]

Prints the JSON Schema (2020-12) of event type TYPE exactly as this build
validates and publishes it, or, without TYPE, lists the types with the NATS
subjects they are published on. TYPE "envelope" is the CloudEvents envelope
every event is wrapped in. The contract is described in docs/EVENTS.md.`

// schemaCommand implements `normalizer schema [TYPE]`; it returns the exit
// status: 0, or 2 for a usage error or an unknown type (with the list).
func schemaCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("normalizer schema", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, schemaUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch fs.NArg() {
	case 0:
		listSchemaTypes(stdout)
		return 0
	case 1:
	default:
		fs.Usage()
		return 2
	}
	b, err := events.SchemaJSON(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "normalizer schema: unknown type %q; the types are:\n", fs.Arg(0))
		listSchemaTypes(stderr)
		return 2
	}
	if _, err := stdout.Write(b); err != nil {
		return 1
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		fmt.Fprintln(stdout)
	}
	return 0
}

// listSchemaTypes writes one line per type: the type and its subjects.
func listSchemaTypes(w io.Writer) {
	width := len("envelope")
	for _, k := range events.Kinds {
		width = max(width, len(events.Type(k)))
	}
	for _, k := range events.Kinds {
		fmt.Fprintf(w, "%-*s  %s\n", width, events.Type(k), events.Subject(k, "<vendor>"))
	}
	fmt.Fprintf(w, "%-*s  %s\n", width, "envelope", "(the CloudEvents 1.0 envelope around every event)")
}

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/veda-runtime/veda/goveda/internal/trace"
)

const traceUsage = `usage: veda trace <summarize|plot|validate> FILE [flags]

  summarize FILE            per worker: busy, helping, idle and parked time, steals; the 10
                            longest runs; per device engine: busy time, kernels and transfers
  plot FILE -o OUT          draw the timeline (a lane per worker and device engine, colour by
                            kind) to OUT, a .png, .svg or .pdf file
  validate FILE             check the trace-event grammar Perfetto relies on (fields per phase,
                            relative timestamps, nested slices per track, paired flows)

A trace comes from VEDA_TRACE=out.json (a whole process), rt.StartTrace in Go,
veda_trace_start in C, or "with rt.trace('out.json'):" in Python. Open it in ui.perfetto.dev.
`

// cmdTrace is `veda trace`: tools for trace files.
func cmdTrace(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, traceUsage)
		return 2
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, traceUsage)
		return 0
	case "summarize", "plot", "validate":
	default:
		fmt.Fprintf(stderr, "veda trace: unknown subcommand %q\n\n%s", sub, traceUsage)
		return 2
	}
	sfs := flag.NewFlagSet("veda trace "+sub, flag.ContinueOnError)
	sfs.SetOutput(stderr)
	out := ""
	title := ""
	if sub == "plot" {
		sfs.StringVar(&out, "o", "", "output image: a .png, .svg or .pdf path (required)")
		sfs.StringVar(&title, "title", "", "plot title (default \"veda timeline\")")
	}
	sfs.Usage = func() {
		fmt.Fprintf(stderr, "usage: veda trace %s FILE", sub)
		if sub == "plot" {
			fmt.Fprint(stderr, " -o OUT.png|svg|pdf [-title T]")
		}
		fmt.Fprintln(stderr)
		sfs.PrintDefaults()
	}
	// the file may come before or after the flags
	var file string
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		file, rest = rest[0], rest[1:]
	}
	if st, ok := parseFlagsArgs(sfs, rest); !ok {
		return st
	}
	if file == "" && sfs.NArg() > 0 {
		file = sfs.Arg(0)
		if sfs.NArg() > 1 {
			fmt.Fprintf(stderr, "veda trace %s: unexpected argument %q\n", sub, sfs.Arg(1))
			return 2
		}
	} else if sfs.NArg() > 0 {
		fmt.Fprintf(stderr, "veda trace %s: unexpected argument %q\n", sub, sfs.Arg(0))
		return 2
	}
	if file == "" {
		fmt.Fprintf(stderr, "veda trace %s: no trace file given\n", sub)
		sfs.Usage()
		return 2
	}
	if sub == "plot" && out == "" {
		fmt.Fprintln(stderr, "veda trace plot: -o OUT is required")
		sfs.Usage()
		return 2
	}
	if ext := strings.ToLower(filepath.Ext(out)); sub == "plot" && ext != ".png" && ext != ".svg" && ext != ".pdf" {
		// bad usage, caught before the trace is read (trace.Plot checks it too)
		fmt.Fprintf(stderr, "veda trace plot: -o %q: the output must end in .png, .svg or .pdf\n", out)
		return 2
	}
	f, err := trace.ReadFile(file)
	if pe := (*os.PathError)(nil); errors.As(err, &pe) {
		fmt.Fprintf(stderr, "veda trace %s: %v\n", sub, err) // cannot open: bad usage
		return 2
	}
	if err != nil {
		return fail(stderr, "trace "+sub, err)
	}
	switch sub {
	case "summarize":
		trace.Summarize(f).Print(stdout)
	case "plot":
		if err := trace.Plot(f, out, title); err != nil {
			return fail(stderr, "trace plot", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", out)
	case "validate":
		errs := trace.Validate(f)
		if len(errs) > 0 {
			for _, e := range errs {
				fmt.Fprintf(stderr, "veda trace validate: %s: %v\n", file, e)
			}
			return 1
		}
		fmt.Fprintf(stdout, "%s: %d events, valid\n", file, len(f.TraceEvents))
	}
	return 0
}

// parseFlagsArgs parses args into fs: 0,false after -h; 2,false after a bad flag; ok otherwise.
// Unlike parseFlags it leaves positional arguments to the caller.
func parseFlagsArgs(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

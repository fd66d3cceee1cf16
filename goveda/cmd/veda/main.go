// Command veda shows what VEDA sees on this machine and what it does with it.
//
//	veda info     the hardware profile, every device, and why a GPU backend is absent
//	veda demo     the built-in kernels on every device (pinned), then under automatic
//	              dispatch: a table of device, time, throughput and a check against the CPU
//	veda explain  a short mixed workload with decision recording on: why each call went where
//	veda encrypt  the main job: Tink's AES-GCM-HKDF streaming AEAD, segments sealed in parallel
//	              on the CPU and the devices (-key FILE [-in FILE|-] [-out FILE|-] [-ad S])
//	veda decrypt  the reverse, verifying every segment; veda keygen -out FILE makes a key
//	veda trace    summarize, plot or validate a timeline trace file
//	veda calibrate  every built-in kernel on every device, saved per machine (loaded at start)
//	veda version  the version (also veda --version)
//	veda help     this text
//
// Each subcommand takes its own flags (veda demo -h). Exit status: 0 on success, 1 when a
// subcommand fails (a device error, or a result that does not match the CPU's), 2 for bad
// usage (an unknown subcommand or flag, a bad flag value or VEDA_* variable).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/veda-runtime/veda/goveda"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand: its name, one line of help, and its body. The body parses its own
// flags from fs (already created with the name and ContinueOnError) and returns the exit status.
type command struct {
	name  string
	brief string
	main  func(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"info", "print the hardware profile, every device, and why a backend is absent", cmdInfo},
	{"demo", "run saxpy, sum, dot and sgemm on every device and under automatic dispatch", cmdDemo},
	{"explain", "run a short mixed workload and print every dispatch decision with its reason", cmdExplain},
	{"encrypt", "encrypt a stream in Tink's AES-GCM-HKDF streaming format, segments on CPU and devices", cmdEncrypt},
	{"decrypt", "decrypt and verify a Tink AES-GCM-HKDF stream", cmdDecrypt},
	{"keygen", "write a new random 256-bit key file", cmdKeygen},
	{"job", "the main job on a 256 MiB in-memory stream: round trip, placement table, peers", cmdJob},
	{"trace", "summarize, plot or validate a timeline trace (VEDA_TRACE=out.json)", cmdTrace},
	{"calibrate", "measure every kernel on every device and save the cost model for later processes", cmdCalibrate},
}

// usage writes the top-level help to w.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: veda <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.brief)
	}
	fmt.Fprintf(w, "  %-9s %s\n", "version", "print the version (also --version)")
	fmt.Fprintf(w, "  %-9s %s\n", "help", "print this text")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'veda <command> -h' for the command's flags. Environment: VEDA_NUM_WORKERS,")
	fmt.Fprintln(w, "VEDA_STRATEGY, VEDA_GPU_THRESHOLD, VEDA_MEM_FRACTION, VEDA_DISABLE_GPU=1.")
}

// run is the whole program: args without the program name, output to stdout and stderr; it
// returns the exit status (0 ok, 1 failure, 2 usage).
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		usage(stdout)
		return 0
	case "version", "-version", "--version":
		if len(args) > 1 {
			fmt.Fprintf(stderr, "veda version: unexpected argument %q\n", args[1])
			return 2
		}
		fmt.Fprintf(stdout, "veda %s (%s, %s/%s)\n", goveda.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet("veda "+c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		return c.main(fs, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "veda: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// parseFlags parses args into fs and reports the exit status to return when parsing ends the
// command: 0 after -h (the flag package printed the flags), 2 after a bad flag or a stray
// argument. ok is true when the command should go on.
func parseFlags(fs *flag.FlagSet, args []string) (status int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}

// fail prints "veda <cmd>: err" to stderr and returns 1.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "veda %s: %v\n", cmd, err)
	return 1
}

// failNew reports goveda.New's error: 2 (bad usage) for a bad flag value or VEDA_* variable
// (New's errors wrapping ErrInvalidArgument), 1 for anything else.
func failNew(stderr io.Writer, cmd string, err error) int {
	st := fail(stderr, cmd, err)
	if errors.Is(err, goveda.ErrInvalidArgument) {
		st = 2
	}
	return st
}

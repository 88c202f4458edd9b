// Command hgdtune is the command-line front end of hgdtune: data checks,
// training and the paper's HPO experiments.
//
//	hgdtune reproduce [flags]   run the paper's experiment; write Tables 3/4 and Figures 2-5
//	hgdtune data  [flags]   find, download and verify CIFAR data; print a summary
//	hgdtune curves record [flags]   record a curve pool that reproduce -curves replays
//	hgdtune train [flags]   train one configuration of the paper's CNN
//	hgdtune worker -storage URL   train the trials of experiments shared through PostgreSQL
//	hgdtune status -storage URL   show a database's experiments, trials and workers
//	hgdtune env   [flags]   show the compute backend that would be used
//
// Run "hgdtune <command> -h" for a command's flags.
//
// # Exit codes
//
// Every command exits 0 on success, 2 on a usage error (an unknown
// command or flag, a flag value out of range: checked before any data is
// read or anything written) and 1 on any other error, which it prints
// naming what failed. Ctrl-C stops reproduce and train cleanly with exit
// code 1 (rerunning the same command resumes); a worker stopped with Ctrl-C
// gives its tasks back and exits 0. "hgdtune data" exits 0 when the
// training set is complete and verified, also when the test set is not
// available (the paper's protocol uses only the training set).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"data", "find, download and verify CIFAR-10/100; print a summary and the 70/30 split", runData},
		{"reproduce", "run the paper's experiment (six HPO algorithms × SGD/HGD arms × seeds) and write its tables and figures", runReproduce},
		{"curves", "record a curve pool (configurations trained once, every epoch evaluated) for fast exact replays", runCurves},
		{"train", "train one configuration of the paper's CNN with SGD+momentum or HGD", runTrain},
		{"worker", "train the trials of experiments shared through PostgreSQL (-storage), on any machine", runWorker},
		{"status", "show the experiments, trials and workers of a PostgreSQL database (-storage)", runStatus},
		{"env", "show the compute backend that would be used, and the data folders", runEnv},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: hgdtune <command> [flags]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'hgdtune <command> -h' for the flags of a command.")
	fmt.Fprintln(w, "Exit codes: 0 success, 1 error, 2 usage error.")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code: 0 on
// success, 2 for a usage error, 1 for any other error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "hgdtune %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "hgdtune: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// errUsage marks a flag-parsing error (already reported by the flag package).
var errUsage = errors.New("usage error")

// parseFlags parses args with fs, which reports its own errors on stderr.
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}

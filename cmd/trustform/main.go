// Command trustform plans and applies a server's TLS trust material:
// certificates, DANE TLSA records, HSTS, vhost TLS settings and APT keys.
//
// This is the only package that prints. Exit codes: 0 success, 1 error, and
// with plan -detailed-exitcode, 2 when the plan has changes (drift).
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// env is the process's world, passed in so tests can run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	tty            bool      // stdout is a terminal
	inTTY          bool      // stdin is a terminal: questions may be asked
	errTTY         bool      // stderr is a terminal
	width          int       // the terminal's columns, where stderr is one; 0: 100
	log            io.Writer // TRUSTFORM_LOG_PATH's redactor, or nil
}

func main() {
	// Per stream: `plan >plan.txt` still colours the diagnostics on the
	// terminal, and `validate 2>err.txt` writes no escape codes into the file.
	// (term.IsTerminal asks the terminal driver: /dev/null is no terminal.)
	width, _, _ := term.GetSize(int(os.Stderr.Fd()))
	e := env{stdin: os.Stdin, stdout: &redactor{w: os.Stdout}, stderr: &redactor{w: os.Stderr}, getenv: os.Getenv, width: width,
		tty: term.IsTerminal(int(os.Stdout.Fd())), inTTY: term.IsTerminal(int(os.Stdin.Fd())), errTTY: term.IsTerminal(int(os.Stderr.Fd()))}
	closeLog, logFile, err := setupLog(os.Getenv, e.stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
	if logFile != nil {
		e.log = logFile
	}
	code := run(os.Args[1:], e)
	closeLog()
	os.Exit(code)
}

const usage = `Usage: trustform [-chdir=DIR] COMMAND [options]

Commands:
  validate      check the configuration
  fmt           rewrite configuration files in canonical format
  plan          show what apply would do
  apply         carry out a plan
  destroy       delete everything the configuration manages (apply -destroy)
  show          show a saved plan, or the inventory of certificates
  output        print the output blocks' values, from the state
  state         list, show, pull, push, mv or rm: the state where it is kept
  import        write blocks for what exists (certbot, nginx, apache, postfix,
                dovecot, a zone's TLSA records, apt) and take it over as it is
  force-unlock  break the state lock of a run that hangs (LOCK_ID)
  version       print the version

Global options:
  -chdir=DIR  switch to DIR before anything else: the configuration is read
              there, and relative paths given to the command are relative to it

Run "trustform COMMAND -h" for a command's options.
`

func run(args []string, e env) int {
	if wd, err := os.Getwd(); err == nil {
		defer os.Chdir(wd) // -chdir changes directory; tests run commands in-process
	}
	chdir := "."
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch {
		case strings.HasPrefix(args[0], "-chdir="):
			chdir = strings.TrimPrefix(args[0], "-chdir=")
		case args[0] == "-version" || args[0] == "--version":
			args = []string{"version"}
			continue
		case args[0] == "-h" || args[0] == "-help" || args[0] == "--help":
			fmt.Fprint(e.stdout, usage)
			return 0
		default:
			fmt.Fprintf(e.stderr, "Error: unknown global option %s\n\n%s", args[0], usage)
			return 1
		}
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return 1
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "validate":
		return cmdValidate(rest, chdir, e)
	case "fmt":
		return cmdFmt(rest, chdir, e)
	case "plan":
		return cmdPlan(rest, chdir, e)
	case "apply", "destroy":
		return cmdApply(cmd, rest, chdir, e)
	case "show":
		return cmdShow(rest, chdir, e)
	case "state":
		return cmdState(rest, chdir, e)
	case "import":
		return cmdImport(rest, chdir, e)
	case "output":
		return cmdOutput(rest, chdir, e)
	case "force-unlock":
		return cmdForceUnlock(rest, chdir, e)
	case "version":
		return cmdVersion(rest, e)
	}
	fmt.Fprintf(e.stderr, "Error: unknown command %q.%s\n\n%s", cmd, didYouMean(cmd, []string{"validate", "fmt", "plan", "apply", "show", "destroy", "output", "state", "import", "force-unlock", "version"}), usage)
	return 1
}

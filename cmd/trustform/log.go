package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"

	legolog "github.com/go-acme/lego/v4/log"
)

// Debug logging, as Terraform's TF_LOG: what the libraries log (lego's
// "[INFO] acme: …" lines of every order) is off unless TRUSTFORM_LOG says
// how much (TRACE, DEBUG or INFO: everything; WARN: warnings; ERROR or
// OFF: nothing), on stderr or appended to TRUSTFORM_LOG_PATH (0600). The
// plan, the steps and the diagnostics are trustform's own output and stay
// as they are.

// logLevels say, per setting, what of the log is kept: every line, the
// warnings (lego's "[WARN]" lines), or nothing.
var logLevels = map[string]string{"TRACE": "all", "DEBUG": "all", "INFO": "all", "WARN": "[WARN]", "ERROR": "", "OFF": "", "": ""}

// setupLog routes the library log as the environment asks; the returned
// func closes the log file. It is called once, by main.
func setupLog(getenv func(string) string, stderr io.Writer) (func(), error) {
	level := strings.ToUpper(strings.TrimSpace(getenv("TRUSTFORM_LOG")))
	keep, ok := logLevels[level]
	if !ok {
		return func() {}, fmt.Errorf("TRUSTFORM_LOG=%s: use TRACE, DEBUG, INFO, WARN, ERROR or OFF", level)
	}
	out, closeOut := stderr, func() {}
	if path := getenv("TRUSTFORM_LOG_PATH"); path != "" && keep != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return func() {}, fmt.Errorf("TRUSTFORM_LOG_PATH: %w", err)
		}
		out, closeOut = f, func() { f.Close() }
	}
	w := &levelWriter{out: out, keep: keep}
	legolog.Logger = log.New(w, "", log.LstdFlags)
	log.SetOutput(w)
	return closeOut, nil
}

// levelWriter passes the lines its setting keeps.
type levelWriter struct {
	mu   sync.Mutex
	out  io.Writer
	keep string // "all", a level's tag, or "" for none
}

func (w *levelWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) > 0 && (w.keep == "all" || w.keep != "" && bytes.Contains(line, []byte(w.keep))) {
			w.out.Write(line)
		}
	}
	return len(p), nil
}

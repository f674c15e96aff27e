package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"

	legolog "github.com/go-acme/lego/v4/log"
)

// Debug logging, as Terraform's TF_LOG: what trustform sends and receives
// (each DNS question and answer, zone transfer and UPDATE, API request,
// SSH connection, file and command, and lego's lines of every order) is
// off unless TRUSTFORM_LOG says how much (TRACE or DEBUG: everything; INFO:
// changes, connections and lego's lines; WARN: warnings; ERROR or OFF:
// nothing), on stderr or appended to TRUSTFORM_LOG_PATH (0600), through
// the redactor of the rest of the output: no sensitive value appears. The
// plan, the steps and the diagnostics are trustform's own output and stay
// as they are.

// logLevels say, per setting, the least level of trustform's own lines
// (log/slog) and the tags of lego's lines kept ("" keeps all).
var logLevels = map[string]struct {
	level slog.Level
	tags  []string
}{
	"TRACE": {slog.LevelDebug, []string{""}}, "DEBUG": {slog.LevelDebug, []string{""}},
	"INFO": {slog.LevelInfo, []string{"[INFO]", "[WARN]"}}, "WARN": {slog.LevelWarn, []string{"[WARN]"}},
	"ERROR": {logOff, nil}, "OFF": {logOff, nil}, "": {logOff, nil},
}

// logOff is above every level trustform logs at.
const logOff = slog.LevelError + 1

// setupLog routes the log as the environment asks, to stderr (the
// redactor main gives) or to a file behind a redactor of its own, which it
// returns for the secrets to be set on (common.load); the returned func
// closes the log file. It is called once, by main.
func setupLog(getenv func(string) string, stderr io.Writer) (func(), *redactor, error) {
	level := strings.ToUpper(strings.TrimSpace(getenv("TRUSTFORM_LOG")))
	setting, ok := logLevels[level]
	keep := setting.tags
	if !ok {
		return func() {}, nil, fmt.Errorf("TRUSTFORM_LOG=%s: use TRACE, DEBUG, INFO, WARN, ERROR or OFF", level)
	}
	out, closeOut := stderr, func() {}
	var file *redactor
	if path := getenv("TRUSTFORM_LOG_PATH"); path != "" && len(keep) > 0 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return func() {}, nil, fmt.Errorf("TRUSTFORM_LOG_PATH: %w", err)
		}
		file = &redactor{w: f}
		out, closeOut = file, func() { f.Close() }
	}
	legolog.Logger = log.New(&levelWriter{out: out, keep: keep}, "", log.LstdFlags)
	slog.SetDefault(slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: setting.level})))
	return closeOut, file, nil
}

// levelWriter passes the lines its setting keeps.
type levelWriter struct {
	mu   sync.Mutex
	out  io.Writer
	keep []string // tags of the lines kept; "" keeps every line, none keeps none
}

func (w *levelWriter) Write(p []byte) (int, error) {
	if len(w.keep) == 0 {
		return len(p), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		for _, tag := range w.keep {
			if len(line) > 0 && bytes.Contains(line, []byte(tag)) {
				w.out.Write(line)
				break
			}
		}
	}
	return len(p), nil
}

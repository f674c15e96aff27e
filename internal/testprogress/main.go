// Command testprogress turns `go test -json` into one line per package as it
// finishes, the output of every failing test, and a closing count, so that
// the test command shows progress instead of minutes of silence.
// (gotestsum does this and more; this is the few lines we need, with no
// tool to install.)
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	start := time.Now()
	output := map[string][]string{} // package/test -> its output so far
	var passed, failed, skipped int
	var failures []string
	finished := map[string]bool{} // package/test that reported pass, fail or skip
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<24)
	for in.Scan() {
		var e event
		if json.Unmarshal(in.Bytes(), &e) != nil {
			fmt.Println(in.Text()) // a build error, say: pass it on
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test != "" {
				finished[key] = true
				switch e.Action {
				case "pass":
					passed++
				case "skip":
					skipped++
				case "fail":
					failed++
					failures = append(failures, key)
					fmt.Printf("--- FAIL %s %s (%.1fs)\n%s", e.Package, e.Test, e.Elapsed, strings.Join(output[key], ""))
				}
				if !strings.Contains(e.Test, "/") || e.Action != "fail" {
					delete(output, key)
				}
				continue
			}
			if e.Action == "fail" && len(output[key]) > 0 {
				fmt.Print(strings.Join(output[key], "")) // package-level output: a panic, a build failure
			}
			if e.Action == "fail" {
				// A test that never finished (the package timed out, or
				// panicked in it): its output ends with why.
				for k, lines := range output {
					if strings.HasPrefix(k, e.Package+" ") && k != key && !finished[k] {
						failed++
						failures = append(failures, k+" (did not finish)")
						fmt.Printf("--- UNFINISHED %s\n%s", k, strings.Join(lines[max(0, len(lines)-40):], ""))
						delete(output, k)
					}
				}
			}
			verdict := strings.ToUpper(e.Action)
			if e.Action == "skip" {
				verdict = "none" // no test files
			}
			fmt.Printf("%-4s %s (%.1fs, %s since start)\n", verdict, e.Package, e.Elapsed, time.Since(start).Round(time.Second))
			delete(output, key)
		}
	}
	if len(failures) > 0 {
		fmt.Println("\nfailed:\n  " + strings.Join(failures, "\n  "))
	}
	fmt.Printf("tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped)
}

package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"runtime"

	"github.com/trustform/trustform/internal/version"
)

// cmdVersion prints the build's version; -json as Terraform's version -json.
func cmdVersion(args []string, e env) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	asJSON := fs.Bool("json", false, "print the version as JSON")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]string{"trustform_version": version.String(), "platform": runtime.GOOS + "_" + runtime.GOARCH})
		return 0
	}
	fmt.Fprintf(e.stdout, "trustform %s on %s_%s\n", version.String(), runtime.GOOS, runtime.GOARCH)
	return 0
}

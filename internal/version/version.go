// Package version says which trustform this is, from the build itself: the
// module version `go install …@vX.Y.Z` stamps, or the VCS revision of a
// build from a checkout. Plans and state record it, so that a file written
// by a newer trustform is refused rather than half understood.
package version

import (
	"runtime/debug"

	"golang.org/x/mod/semver"
)

// Dev is the version of a build without a module version (go build, go test).
const Dev = "v0.0.0-dev"

// String is this build's version: "v1.2.3", or Dev with the revision as
// build metadata ("v0.0.0-dev+4c50053a1b2c").
func String() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Dev
	}
	if v := bi.Main.Version; semver.IsValid(v) {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return Dev + "+" + s.Value[:12]
		}
	}
	return Dev
}

// Newer reports whether a file written by version other comes from a newer
// trustform than this one, which may have written what this one would
// misread. A development build counts as older than every release.
func Newer(other string) bool {
	return semver.IsValid(other) && semver.Compare(other, String()) > 0
}

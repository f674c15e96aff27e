package rules

// APTKeyBeforeSource: an apt_key is installed, its fingerprint verified,
// before any apt_source that references it is written, and it leaves the
// legacy global keyrings (where it is trusted for every repository) only
// after both are in place. Otherwise apt-get fails with NO_PUBKEY.
const APTKeyBeforeSource aptKeyBeforeSource = "apt-key-before-source"

type aptKeyBeforeSource string

var _ Rule = APTKeyBeforeSource

// Name is the rule's name.
func (r aptKeyBeforeSource) Name() string { return string(r) }

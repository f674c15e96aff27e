package providers

// ManagedHeader is the first line of every file trustform renders.
func ManagedHeader(addr string) string {
	return "# Managed by trustform (" + addr + "). Edits here are overwritten: change the configuration instead.\n"
}

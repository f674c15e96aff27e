package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/trustform/trustform/engine/plan"
	"github.com/trustform/trustform/internal/host"
)

// planKey is the key that authenticates saved plans: -plan-key-file (a
// 0600 file of this user's, outside the configuration), else
// TRUSTFORM_PLAN_KEY; nil when the runner has none.
func planKey(e env, file string) ([]byte, error) {
	if file == "" {
		if k := e.getenv("TRUSTFORM_PLAN_KEY"); k != "" {
			if len(k) < plan.MinKeyLen {
				return nil, fmt.Errorf("TRUSTFORM_PLAN_KEY is shorter than %d bytes: make one with `openssl rand -hex 32`", plan.MinKeyLen)
			}
			return []byte(k), nil
		}
		return nil, nil
	}
	st, err := os.Lstat(file)
	if err != nil {
		return nil, fmt.Errorf("-plan-key-file: %v", err)
	}
	if why := host.Foreign(host.Local{}, st); why != "" || !st.Mode().IsRegular() || st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("-plan-key-file: %s must be a regular file of this user's with mode 0600 (it has mode %04o%s)", file, st.Mode().Perm(), map[bool]string{true: ", " + why, false: ""}[why != ""])
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("-plan-key-file: %v", err)
	}
	b = bytes.TrimSpace(b)
	if len(b) < plan.MinKeyLen {
		return nil, fmt.Errorf("-plan-key-file: %s holds fewer than %d bytes: make one with `openssl rand -hex 32`", file, plan.MinKeyLen)
	}
	return b, nil
}

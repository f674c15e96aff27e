package main

import (
	"context"
	"fmt"
	"strings"
)

// cmdForceUnlock is Terraform's force-unlock LOCK_ID: it breaks the state
// lock of a run that hangs (one that died freed its lock already), after
// asking, unless -force. The lock ID is in the message of every run that
// waited for that lock in vain.
func cmdForceUnlock(args []string, chdir string, e env) int {
	var c common
	fs := newFlagSet("force-unlock", e.stderr, chdir, &c)
	force := fs.Bool("force", false, "do not ask for confirmation")
	if code, ok := c.parse(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return errorf(e, "force-unlock takes one argument, the lock ID (the message of a run that waited for the lock names it); got %d", fs.NArg())
	}
	id := fs.Arg(0)
	_, store := c.loadStore(e)
	if store == nil {
		return 1
	}
	defer store.Close()
	if !*force {
		if !c.input {
			return errorf(e, "force-unlock asks for confirmation, and -input=false forbids asking: add -force")
		}
		fmt.Fprintf(e.stdout, "Do you really want to force-unlock?\n  trustform will remove the lock on the state for this configuration (lock ID %s).\n  The run that holds it stops at its next state write. Only 'yes' will be accepted to confirm.\n\n  Enter a value: ", id)
		if line, _ := readAnswer(e, false); strings.TrimSpace(line) != "yes" {
			fmt.Fprintln(e.stdout, "\nForce-unlock cancelled.")
			return 1
		}
	}
	if err := store.ForceUnlock(context.Background(), id); err != nil {
		return errorf(e, "force-unlock: %v", err)
	}
	fmt.Fprintf(e.stdout, "trustform state has been successfully unlocked (lock ID %s). The run that held it finds the lock lost at its next state write and stops there.\n", id)
	return 0
}

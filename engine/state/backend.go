package state

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/trustform/trustform/schema"
)

// Pin is the state store a runner pins outside the configuration, as
// Terraform's partial backend configuration: a configuration from a pull
// request then cannot send the runner's database password to a server of
// its choosing.
type Pin struct{ ConnStr, Schema, Name string }

// ParsePin reads the pin: connStr (TRUSTFORM_PG_CONN_STR), then each
// -backend-config setting (conn_str=…, schema=…, name=…), the later
// winning.
func ParsePin(connStr string, settings []string) (Pin, error) {
	p := Pin{ConnStr: connStr}
	for _, kv := range settings {
		k, v, ok := strings.Cut(kv, "=")
		switch {
		case !ok:
			return p, fmt.Errorf("-backend-config=%s: want KEY=VALUE", k)
		case k == "conn_str":
			p.ConnStr = v
		case k == "schema":
			p.Schema = v
		case k == "name":
			p.Name = v
		default:
			return p, fmt.Errorf("-backend-config: %q is not a setting of the postgres state (conn_str, schema, name)", k)
		}
	}
	return p, nil
}

// StoreOf is where a configuration keeps its state: PostgreSQL (pinned by
// the runner, or the configuration's state block), or dir. Where the
// runner pins a server, a state block naming another is refused before
// anything is contacted. A readOnly store refuses to write (an untrusted
// plan).
func StoreOf(block *schema.State, dir string, pin Pin, readOnly bool) (Store, error) {
	switch {
	case pin.ConnStr == "" && (pin.Schema != "" || pin.Name != ""):
		return nil, fmt.Errorf("-backend-config sets schema or name, but no conn_str pins a PostgreSQL state")
	case pin.ConnStr == "" && block == nil:
		return &DirStore{Dir: dir, ReadOnly: readOnly}, nil
	case pin.ConnStr == "" && block.ConnStr == "":
		return nil, fmt.Errorf("%s: state \"postgres\" has no conn_str: set it, or give it with -backend-config=conn_str=… or TRUSTFORM_PG_CONN_STR", block.DeclRange)
	case pin.ConnStr == "":
		return &PostgresStore{ConnStr: block.ConnStr, Schema: block.Schema, Name: block.Name, ReadOnly: readOnly}, nil
	}
	store := &PostgresStore{ConnStr: pin.ConnStr, Schema: pin.Schema, Name: pin.Name, ReadOnly: readOnly}
	if block != nil {
		if block.ConnStr != "" && block.ConnStr != pin.ConnStr {
			return nil, fmt.Errorf("%s: this configuration keeps its state on another PostgreSQL server than the one this runner pins (TRUSTFORM_PG_CONN_STR or -backend-config=conn_str): refused, nothing was contacted. Remove conn_str from the state block, or make it the pinned one", block.ConnStrRange)
		}
		store.Schema, store.Name = cmp.Or(pin.Schema, block.Schema), cmp.Or(pin.Name, block.Name)
	}
	return store, nil
}

package schema

import (
	"github.com/hashicorp/hcl/v2"
)

// Host says where the files of the resources that name it live.
type Host struct {
	Name    string `hcl:"name,label"`
	Address string `hcl:"address,optional"`
	// Root prefixes every absolute file path of the resources on this host,
	// so a configuration can manage a tree that is not mounted at "/".
	Root string `hcl:"root,optional"`
	// SSH makes the host remote: its files and commands go over SSH.
	SSH *SSH `hcl:"ssh,block"`
	// Environment is set for the commands of this host's resources
	// (test_command, reload_command), beside PATH, HOME, LANG and the
	// other variables a command inherits: never the runner's credentials.
	Environment map[string]string `hcl:"environment,optional"`

	AddressRange     hcl.Range `hcl:"address,attr_value_range"`
	EnvironmentRange hcl.Range `hcl:"environment,attr_value_range"`
	RootRange        hcl.Range `hcl:"root,attr_value_range"`
	DeclRange        hcl.Range `hcl:",def_range"`
}

// SSH is how a remote host is reached.
type SSH struct {
	User         string `hcl:"user,optional"`
	Port         *int   `hcl:"port,optional"`
	IdentityFile string `hcl:"identity_file,optional"`
	KnownHosts   string `hcl:"known_hosts,optional"`
	Jump         string `hcl:"jump,optional"`
	Become       bool   `hcl:"become,optional"`

	PortRange hcl.Range `hcl:"port,attr_value_range"`
	JumpRange hcl.Range `hcl:"jump,attr_value_range"`
	DeclRange hcl.Range `hcl:",def_range"`

	// PortNumber is Port with its default, 22.
	PortNumber int
}

// State says where state is kept when not in .trustform/: a PostgreSQL
// database that every runner shares. The label is the store's type.
type State struct {
	Type string `hcl:"type,label"`
	// ConnStr may be left to the runner (-backend-config=conn_str=…,
	// TRUSTFORM_PG_CONN_STR), which then pins it.
	ConnStr string `hcl:"conn_str,optional"`
	Schema  string `hcl:"schema,optional"`
	Name    string `hcl:"name,optional"`

	ConnStrRange hcl.Range `hcl:"conn_str,attr_value_range"`
	DeclRange    hcl.Range `hcl:",def_range"`
}

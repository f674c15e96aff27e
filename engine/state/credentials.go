package state

import (
	"fmt"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// connConfig parses the connection string and refuses one that would hand
// the runner's password to a server it cannot trust. The password comes
// from the runner (PGPASSWORD, PGPASSFILE, ~/.pgpass) and the connection
// string may come from a pull request: so a password goes only through a
// Unix socket, or over TLS to a server whose certificate is verified for
// its name (sslmode=verify-full, or sslrootcert=system). Every other
// address, first or fallback, is refused before anything is dialled.
func connConfig(connStr string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(connStr)
	if err != nil {
		return nil, fmt.Errorf("state: the PostgreSQL connection string: %w", err)
	}
	if cfg.Password == "" {
		return cfg, nil
	}
	targets := append([]*pgconn.FallbackConfig{{Host: cfg.Host, Port: cfg.Port, TLSConfig: cfg.TLSConfig}}, cfg.Fallbacks...)
	for _, f := range targets {
		if network, _ := pgconn.NetworkAddress(f.Host, f.Port); network == "unix" {
			continue
		}
		if f.TLSConfig == nil || f.TLSConfig.InsecureSkipVerify {
			return nil, fmt.Errorf("state: the PostgreSQL password (PGPASSWORD or the password file) is sent only to a server whose certificate is verified: %s would get it %s. Connect with sslmode=verify-full (and sslrootcert= the CA's file, or sslrootcert=system), or through a Unix socket",
				net.JoinHostPort(f.Host, strconv.Itoa(int(f.Port))), map[bool]string{true: "in clear", false: "over TLS without its certificate checked"}[f.TLSConfig == nil])
		}
	}
	return cfg, nil
}

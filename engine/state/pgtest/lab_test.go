package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The lab answers with password authentication, the password from
// PGPASSWORD rather than the connection string.
func TestLabAnswers(t *testing.T) {
	lab := Start(t)
	t.Setenv("PGPASSWORD", lab.Password)
	conn, err := pgx.Connect(context.Background(), lab.ConnStr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "select 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("select 1: %d, %v", n, err)
	}
	t.Setenv("PGPASSWORD", "wrong")
	if c, err := pgx.Connect(context.Background(), lab.ConnStr()); err == nil {
		c.Close(context.Background())
		t.Error("a wrong password was accepted")
	}
}

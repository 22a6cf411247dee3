package storage

import (
	"errors"
	"testing"
)

func TestUserRecordsDurable(t *testing.T) {
	dir := t.TempDir()
	e := openTestEngine(t, dir, Options{})
	if err := e.PutUserRecord("bob", []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if err := e.PutUserRecord("eve", []byte{3}); err != nil {
		t.Fatal(err)
	}
	if err := e.PutUserRecord("bob", []byte{4}); err != nil { // replaces
		t.Fatal(err)
	}
	if err := e.DeleteUserRecord("eve"); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteUserRecord("nobody"); err != nil {
		t.Fatal(err)
	}
	// A database named like a user does not show up among users, nor they
	// among databases.
	if err := e.CreateDatabase("bob", nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.PutUserRecord("x", nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	e = openTestEngine(t, dir, Options{})
	defer e.Close()
	recs, err := e.UserRecords()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || string(recs["bob"]) != "\x04" {
		t.Fatalf("records after reopen: %q", recs)
	}
	if dbs := e.Databases(); len(dbs) != 1 || dbs[0] != "bob" {
		t.Fatalf("databases %v", dbs)
	}
}

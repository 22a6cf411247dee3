package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// nodeIDFile holds the --node-id a data directory was first started with:
// one line, the ID. The directory's data (and the Kafka offsets stored with
// it) belong to that node; another ID on the same directory would make two
// group members claim one set of offsets, so startServer refuses it.
const nodeIDFile = "NODE_ID"

// validNodeID: the characters of a Kubernetes pod name and of a Kafka
// group.instance.id, so the pod name can be the ID as it is.
var validNodeID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,248}$`)

// claimNodeID records id in dir on the first start and checks it on every
// later one. An empty id claims nothing (a standalone server).
func claimNodeID(dir, id string) error {
	if id == "" {
		return nil
	}
	if !validNodeID.MatchString(id) {
		return fmt.Errorf("bad --node-id %q: letters, digits, '.', '_' and '-', at most 249", id)
	}
	path := filepath.Join(dir, nodeIDFile)
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if got := string(bytes.TrimSpace(old)); got != id {
			return fmt.Errorf("--node-id %q refused: data directory %s belongs to node %q (see %s); start that node on it, or give this one its own directory", id, dir, got, path)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Temp file, fsync, rename, fsync the directory: never a half-written ID.
	tmp, err := os.CreateTemp(dir, ".node-id-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(id + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("record --node-id in %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

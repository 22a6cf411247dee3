package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-db/strata/storage"
)

// FuzzBackupManifest decodes arbitrary manifests: no panic, and an accepted one
// names only paths inside index/ or wal/.
func FuzzBackupManifest(f *testing.F) {
	b, err := os.ReadFile(filepath.Join(goldenBackup, manifestName))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"format":"strata-backup","version":1,"files":[{"path":"index/../x","size":1,"sha256":"` + strings.Repeat("0", 64) + `"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data)
		if err != nil {
			return
		}
		for _, f := range m.Files {
			if err := checkBackupPath(f.Path); err != nil || strings.Contains(f.Path, "..") {
				t.Fatalf("accepted path %q", f.Path)
			}
		}
	})
}

// FuzzReceiveBackup feeds arbitrary bytes as a backup stream: no panic, no file
// outside the target, and no manifest unless the stream matched it.
func FuzzReceiveBackup(f *testing.F) {
	var golden bytes.Buffer
	if _, err := streamCheckpoint(&golden, goldenBackup, storage.CheckpointInfo{}); err != nil {
		f.Fatal(err)
	}
	f.Add(golden.Bytes())
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0}, 1024))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		dir := filepath.Join(root, "bk")
		if _, err := receiveBackup(bytes.NewReader(data), dir); err == nil {
			if _, err := verifyBackup(dir); err != nil {
				t.Fatalf("received backup does not verify: %v", err)
			}
		}
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if e.Name() != "bk" {
				t.Fatalf("wrote %s outside the target", e.Name())
			}
		}
	})
}

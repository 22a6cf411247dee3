package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// The backup format (docs/format/backup.md): a directory of the checkpoint's
// files under index/ and wal/, and manifest.json naming each with its size and
// SHA-256. Over HTTP the same files travel as a tar stream, manifest last.
const (
	backupFormatName = "strata-backup"
	// backupFormatVersion is the version of the manifest and layout; restore
	// refuses a newer one.
	backupFormatVersion = 1
	manifestName        = "manifest.json"
)

// backupManifest is manifest.json.
type backupManifest struct {
	Format        string       `json:"format"`
	Version       int          `json:"version"`
	Created       time.Time    `json:"created"`
	StrataVersion string       `json:"strata_version"`
	KeyFormat     uint32       `json:"key_format"`
	WALBelow      uint64       `json:"wal_below"`
	Files         []backupFile `json:"files"`
}

type backupFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// decodeManifest parses and validates a manifest: format, version, and file
// paths that stay inside index/ or wal/.
func decodeManifest(b []byte) (*backupManifest, error) {
	var m backupManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if m.Format != backupFormatName {
		return nil, fmt.Errorf("manifest: format %q is not %q", m.Format, backupFormatName)
	}
	if m.Version > backupFormatVersion {
		return nil, fmt.Errorf("backup format version %d is newer than this build reads (%d): restore it with a newer strata", m.Version, backupFormatVersion)
	}
	if m.Version < 1 {
		return nil, fmt.Errorf("manifest: invalid version %d", m.Version)
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		if err := checkBackupPath(f.Path); err != nil {
			return nil, err
		}
		if seen[f.Path] {
			return nil, fmt.Errorf("manifest: %s listed twice", f.Path)
		}
		seen[f.Path] = true
		if f.Size < 0 || len(f.SHA256) != 64 {
			return nil, fmt.Errorf("manifest: %s: bad size or checksum", f.Path)
		}
	}
	return &m, nil
}

// checkBackupPath refuses names that would escape the data directory.
func checkBackupPath(p string) error {
	if p != path.Clean(p) || path.IsAbs(p) || strings.Contains(p, "\\") ||
		!(strings.HasPrefix(p, "index/") || strings.HasPrefix(p, "wal/")) || strings.Contains(p, "..") {
		return fmt.Errorf("backup: unexpected file name %q", p)
	}
	return nil
}

// hashingWriter counts and hashes what passes through it.
type hashingWriter struct {
	w    io.Writer
	h    hash.Hash
	size int64
}

func newHashingWriter(w io.Writer) *hashingWriter {
	return &hashingWriter{w: w, h: sha256.New()}
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.size += int64(n)
	return n, err
}

func (h *hashingWriter) hex() string { return hex.EncodeToString(h.h.Sum(nil)) }

// verifyBackup checks a backup directory against its manifest: every file
// there, of its size and checksum, and nothing else in index/ or wal/.
func verifyBackup(dir string) (*backupManifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s has no %s: not a complete backup (was it interrupted?)", dir, manifestName)
	}
	if err != nil {
		return nil, err
	}
	m, err := decodeManifest(b)
	if err != nil {
		return nil, err
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		listed[f.Path] = true
		if err := verifyFile(filepath.Join(dir, filepath.FromSlash(f.Path)), f); err != nil {
			return nil, err
		}
	}
	for _, sub := range []string{"index", "wal"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for _, e := range ents {
			if !listed[sub+"/"+e.Name()] {
				return nil, fmt.Errorf("backup: %s/%s is not in the manifest", sub, e.Name())
			}
		}
	}
	return m, nil
}

func verifyFile(p string, f backupFile) error {
	fh, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("backup: %s: %w", f.Path, err)
	}
	defer fh.Close()
	hw := newHashingWriter(io.Discard)
	if _, err := io.Copy(hw, fh); err != nil {
		return fmt.Errorf("backup: %s: %w", f.Path, err)
	}
	if hw.size != f.Size || hw.hex() != f.SHA256 {
		return fmt.Errorf("backup: %s is damaged: %d bytes with SHA-256 %s, the manifest says %d bytes with %s", f.Path, hw.size, hw.hex(), f.Size, f.SHA256)
	}
	return nil
}

// syncDir makes the entries of a directory durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

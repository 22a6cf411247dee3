package main

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/storage"
)

// backupHandler is GET /backup: it checkpoints the running engine and streams
// the checkpoint as a tar (docs/format/backup.md), manifest last, while writes
// go on. One backup runs at a time: each pins a checkpoint's files on disk.
type backupHandler struct {
	eng     *storage.Engine
	dataDir string
	log     *slog.Logger
	busy    atomic.Bool
}

// backupRetryAfter is what a second concurrent backup is told to wait, in
// seconds: long enough not to spin, short against a backup's minutes.
const backupRetryAfter = "10"

func newBackupHandler(eng *storage.Engine, dataDir string, log *slog.Logger) *backupHandler {
	return &backupHandler{eng: eng, dataDir: dataDir, log: log}
}

func (h *backupHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		jsonError(w, http.StatusMethodNotAllowed, "use GET")
		return
	}
	if !h.busy.CompareAndSwap(false, true) {
		w.Header().Set("Retry-After", backupRetryAfter)
		jsonError(w, http.StatusTooManyRequests, "a backup is already running")
		return
	}
	defer h.busy.Store(false)
	start := time.Now()
	// The checkpoint lives in the data directory, so its files are hard links;
	// one left by a crash during an earlier backup is removed first.
	dir := filepath.Join(h.dataDir, "backup-checkpoint")
	if err := os.RemoveAll(dir); err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	defer os.RemoveAll(dir)
	info, err := h.eng.Checkpoint(dir)
	if err != nil {
		status := http.StatusInternalServerError
		var ue *storage.UnavailableError
		if errors.As(err, &ue) {
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", backupRetryAfter)
		}
		jsonError(w, status, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/x-tar")
	m, err := streamCheckpoint(w, dir, info)
	if err != nil {
		// The status is sent; the client sees a stream without a manifest.
		h.log.Warn("backup stream broken", "err", err)
		return
	}
	var bytes int64
	for _, f := range m.Files {
		bytes += f.Size
	}
	h.log.Info("backup streamed", "files", len(m.Files), "bytes", bytes, "wal_segments", len(info.Segments), "duration", time.Since(start))
}

// streamCheckpoint writes the files of the checkpoint in dir as a tar, each
// hashed on the way, then the manifest naming them.
func streamCheckpoint(w io.Writer, dir string, info storage.CheckpointInfo) (*backupManifest, error) {
	m := &backupManifest{Format: backupFormatName, Version: backupFormatVersion, Created: time.Now().UTC(),
		StrataVersion: version, KeyFormat: storage.KeyFormatVersion, WALBelow: info.WALBelow, Files: []backupFile{}}
	tw := tar.NewWriter(w)
	for _, sub := range []string{"index", "wal"} {
		ents, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			return nil, err
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		for _, e := range ents {
			if !e.Type().IsRegular() {
				return nil, fmt.Errorf("checkpoint holds %s/%s, not a regular file", sub, e.Name())
			}
			f, err := addTarFile(tw, filepath.Join(dir, sub, e.Name()), sub+"/"+e.Name())
			if err != nil {
				return nil, err
			}
			m.Files = append(m.Files, f)
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	b = append(b, '\n')
	if err := tw.WriteHeader(&tar.Header{Name: manifestName, Mode: 0o644, Size: int64(len(b)), ModTime: m.Created, Typeflag: tar.TypeReg}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(b); err != nil {
		return nil, err
	}
	return m, tw.Close()
}

func addTarFile(tw *tar.Writer, src, name string) (backupFile, error) {
	f, err := os.Open(src)
	if err != nil {
		return backupFile{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return backupFile{}, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: st.Size(), ModTime: st.ModTime(), Typeflag: tar.TypeReg}); err != nil {
		return backupFile{}, err
	}
	hw := newHashingWriter(tw)
	if _, err := io.Copy(hw, f); err != nil {
		return backupFile{}, err
	}
	return backupFile{Path: name, Size: hw.size, SHA256: hw.hex()}, nil
}

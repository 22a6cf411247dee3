package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/strata-db/strata/storage"
)

func backupCommand(args []string, stdout, stderr io.Writer) int {
	var conn clientFlags
	fs := flag.NewFlagSet("strata backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn.bind(fs)
	quiet := fs.Bool("quiet", false, "no progress display")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata backup [flags] DIR

Takes a consistent backup of a running server while writes continue, into DIR
(which must not exist or be empty): the server checkpoints its storage and
streams it; every file is checksummed and DIR gets its manifest.json last, so an
interrupted backup leaves only DIR.partial, which restore refuses.
With --auth-enabled the user must be an admin.

Flags:
`)
		fs.PrintDefaults()
	}
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "strata backup: give exactly one target directory (see --help)")
		return 2
	}
	c, err := conn.client(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "strata backup: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	m, err := runBackup(ctx, c, fs.Arg(0), stderr, *quiet)
	if err != nil {
		fmt.Fprintf(stderr, "strata backup: %v\n", err)
		return 1
	}
	var bytes int64
	for _, f := range m.Files {
		bytes += f.Size
	}
	fmt.Fprintf(stdout, "backup of %d files, %d bytes, in %v into %s\n", len(m.Files), bytes, time.Since(start).Round(time.Millisecond), fs.Arg(0))
	return 0
}

// emptyOrMissing tells whether dir can receive a backup or a restore.
func emptyOrMissing(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty: refusing to overwrite it", dir)
	}
	return nil
}

// runBackup receives the stream into dir.partial, checks it against the
// manifest, then renames it to dir.
func runBackup(ctx context.Context, c *client, dir string, progress io.Writer, quiet bool) (*backupManifest, error) {
	if err := emptyOrMissing(dir); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("/backup", nil), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	partial := filepath.Clean(dir) + ".partial"
	if err := os.RemoveAll(partial); err != nil {
		return nil, err
	}
	var body io.Reader = resp.Body
	if !quiet {
		// The size is known only at the end (the manifest comes last): a
		// spinner with bytes and rate.
		bar := progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription("receiving backup"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
		)
		defer bar.Finish()
		body = io.TeeReader(resp.Body, bar)
	}
	m, err := receiveBackup(body, partial)
	if err != nil {
		return nil, fmt.Errorf("%w (the incomplete copy is in %s)", err, partial)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(partial, dir); err != nil {
		return nil, err
	}
	return m, syncDir(filepath.Dir(filepath.Clean(dir)))
}

// receiveBackup unpacks the tar stream into dir, hashing every file, and
// writes the manifest only when the stream's files match it exactly.
func receiveBackup(r io.Reader, dir string) (*backupManifest, error) {
	got := map[string]backupFile{}
	var manifest []byte
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("backup stream: %w", err)
		}
		if manifest != nil {
			return nil, errors.New("backup stream: data after the manifest")
		}
		if hdr.Name == manifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				return nil, fmt.Errorf("backup stream: %w", err)
			}
			continue
		}
		if err := checkBackupPath(hdr.Name); err != nil || hdr.Typeflag != tar.TypeReg {
			return nil, fmt.Errorf("backup stream: unexpected entry %q", hdr.Name)
		}
		f, err := writeBackupFile(filepath.Join(dir, filepath.FromSlash(hdr.Name)), tr)
		if err != nil {
			return nil, err
		}
		f.Path = hdr.Name
		got[f.Path] = f
	}
	if manifest == nil {
		return nil, errors.New("backup stream ended before its manifest: the server stopped or the connection broke")
	}
	m, err := decodeManifest(manifest)
	if err != nil {
		return nil, err
	}
	if len(m.Files) != len(got) {
		return nil, fmt.Errorf("backup stream: %d files, the manifest lists %d", len(got), len(m.Files))
	}
	for _, f := range m.Files {
		if g, ok := got[f.Path]; !ok || g != f {
			return nil, fmt.Errorf("backup stream: %s does not match the manifest", f.Path)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	for _, sub := range []string{"index", "wal"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, err
		}
		if err := syncDir(filepath.Join(dir, sub)); err != nil {
			return nil, err
		}
	}
	if _, err := writeBackupFile(filepath.Join(dir, manifestName), bytes.NewReader(manifest)); err != nil {
		return nil, err
	}
	return m, syncDir(dir)
}

// writeBackupFile creates path (and its directory) from r, synced, and
// returns its size and checksum.
func writeBackupFile(path string, r io.Reader) (backupFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return backupFile{}, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return backupFile{}, err
	}
	hw := newHashingWriter(f)
	_, err = io.Copy(hw, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return backupFile{}, fmt.Errorf("write %s: %w", path, err)
	}
	return backupFile{Size: hw.size, SHA256: hw.hex()}, nil
}

func restoreCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("strata restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", "", "data directory to restore into: must not exist or be empty (required)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata restore --data-dir DATA DIR

Verifies the backup in DIR (every file's size and SHA-256 against its manifest)
and copies it into DATA, which must not exist or be empty. Then start the server
with strata serve --data-dir DATA: it replays the backup's WAL and answers every
write acknowledged before the backup began.

Flags:
`)
		fs.PrintDefaults()
	}
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	if *dataDir == "" || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "strata restore: give --data-dir and one backup directory (see --help)")
		return 2
	}
	m, err := runRestore(fs.Arg(0), *dataDir)
	if err != nil {
		fmt.Fprintf(stderr, "strata restore: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "restored %d files of the backup taken %s into %s; start it with: strata serve --data-dir %s\n",
		len(m.Files), m.Created.Format(time.RFC3339), *dataDir, *dataDir)
	return 0
}

func runRestore(backupDir, dataDir string) (*backupManifest, error) {
	if err := emptyOrMissing(dataDir); err != nil {
		return nil, err
	}
	m, err := verifyBackup(backupDir)
	if err != nil {
		return nil, err
	}
	if m.KeyFormat != storage.KeyFormatVersion {
		return nil, fmt.Errorf("the backup's storage key format is %d, this build reads %d", m.KeyFormat, storage.KeyFormatVersion)
	}
	tmp := filepath.Clean(dataDir) + ".restoring"
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	for _, sub := range []string{"index", "wal"} {
		if err := os.MkdirAll(filepath.Join(tmp, sub), 0o755); err != nil {
			return nil, err
		}
	}
	for _, f := range m.Files {
		src, err := os.Open(filepath.Join(backupDir, filepath.FromSlash(f.Path)))
		if err != nil {
			return nil, err
		}
		got, err := writeBackupFile(filepath.Join(tmp, filepath.FromSlash(f.Path)), src)
		src.Close()
		if err != nil {
			return nil, err
		}
		if got.Size != f.Size || got.SHA256 != f.SHA256 { // changed since verifyBackup read it
			return nil, fmt.Errorf("backup: %s changed while it was restored", f.Path)
		}
	}
	for _, d := range []string{filepath.Join(tmp, "index"), filepath.Join(tmp, "wal"), tmp} {
		if err := syncDir(d); err != nil {
			return nil, err
		}
	}
	if err := os.Remove(dataDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		return nil, err
	}
	return m, syncDir(filepath.Dir(filepath.Clean(dataDir)))
}

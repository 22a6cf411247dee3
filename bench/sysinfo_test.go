package bench

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		hwm, rss int64
		ok       bool
	}{
		{"linux", "Name:\tstrata\nVmPeak:\t  999 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t9\n", 2048 << 10, 1024 << 10, true},
		{"missing rss", "VmHWM:\t2048 kB\n", 0, 0, false},
		{"bad unit", "VmHWM:\t2048 MB\nVmRSS:\t1 kB\n", 0, 0, false},
		{"bad number", "VmHWM:\tlots kB\nVmRSS:\t1 kB\n", 0, 0, false},
		{"negative", "VmHWM:\t-1 kB\nVmRSS:\t1 kB\n", 0, 0, false},
		{"empty", "", 0, 0, false},
	}
	for _, tt := range tests {
		hwm, rss, err := parseStatus([]byte(tt.in))
		if (err == nil) != tt.ok || hwm != tt.hwm || rss != tt.rss {
			t.Errorf("%s: %d, %d, %v; want %d, %d, ok=%v", tt.name, hwm, rss, err, tt.hwm, tt.rss, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrNoProcStatus) {
			t.Errorf("%s: untyped error %v", tt.name, err)
		}
	}
}

func TestProcMemory(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	hwm, rss, err := ProcMemory(0)
	if err != nil || rss <= 0 || hwm < rss {
		t.Fatalf("ProcMemory(0) = %d, %d, %v", hwm, rss, err)
	}
	if _, _, err := ProcMemory(1 << 30); !errors.Is(err, ErrNoProcStatus) {
		t.Fatalf("absent pid: %v", err)
	}
}

func TestMeasureDisk(t *testing.T) {
	dir := t.TempDir()
	write := func(rel string, n int) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("index/a", 5000)
	write("index/sub/b", 100)
	write("wal/c", 1)
	u, err := MeasureDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if u.Apparent != 5101 || len(u.ByEntry) != 2 || u.ByEntry["index"] < 5100 || u.Allocated < u.ByEntry["index"] {
		t.Fatalf("%+v", u)
	}
	if _, err := MeasureDisk(filepath.Join(dir, "absent")); err == nil {
		t.Fatal("absent dir: no error")
	}
}

func FuzzParseStatus(f *testing.F) {
	f.Add([]byte("VmHWM:\t2048 kB\nVmRSS:\t1024 kB\n"))
	f.Add([]byte("VmHWM: 1 kB\nVmRSS: 99999999999999999999 kB\n"))
	f.Add([]byte("VmRSS:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		hwm, rss, err := parseStatus(b)
		if err != nil {
			if !errors.Is(err, ErrNoProcStatus) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if hwm < 0 || rss < 0 {
			t.Fatalf("negative sizes %d, %d", hwm, rss)
		}
	})
}

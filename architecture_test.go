package strata

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/strata-db/strata/"

// forbidden maps a package (by directory prefix) to the project packages it must
// not import, so the dependency direction stays what doc.go describes.
var forbidden = map[string][]string{
	"wal":                 {"storage", "ingest", "query", "compaction", "bench", "cmd", "httpapi", "services"},
	"storage":             {"ingest", "query", "compaction", "bench", "cmd", "httpapi", "services"},
	"ingest/lineprotocol": {"storage", "wal", "query", "compaction", "bench", "cmd", "ingest", "services"},
	"query/influxql":      {"storage", "wal", "ingest", "compaction", "bench", "cmd", "query", "httpapi", "services"},
	"query/partial":       {"storage", "wal", "ingest", "compaction", "bench", "cmd", "query", "httpapi", "services"},
	"ingest":              {"query", "wal", "compaction", "bench", "cmd", "services"},
	// The remote-write decoder is a pure leaf, as the line-protocol parser.
	"ingest/promremote": {"storage", "wal", "query", "compaction", "bench", "cmd", "ingest", "services", "httpapi"},
	// The dead-letter store writes through storage; every ingest path uses it,
	// so it must not know them.
	"ingest/deadletter": {"wal", "ingest", "query", "compaction", "bench", "cmd", "services", "httpapi"},
	// The Kafka consumer is an ingest path (ingest's line writer, the dead-letter
	// store) run as a service; it satisfies services.Service without importing it.
	"ingest/kafka": {"wal", "query", "compaction", "bench", "cmd", "services", "httpapi"},
	// The sketches are a leaf below funcs and partial, which build on them.
	"query/sketch": {"storage", "wal", "ingest", "compaction", "bench", "cmd", "query", "httpapi", "services", "auth"},
	// The shared bounds-checked reader of the binary decoders: a leaf.
	"query/binread": {"storage", "wal", "ingest", "compaction", "bench", "cmd", "query", "httpapi", "services", "auth", "cluster", "console"},
	// The result cache observes storage's changes and holds encoded partial
	// states as bytes; it knows nothing of InfluxQL or the executor.
	"query/resultcache": {"wal", "ingest", "compaction", "bench", "cmd", "query", "httpapi", "services", "auth"},
	"query":             {"ingest", "wal", "compaction", "bench", "cmd", "httpapi", "storage/block", "services"}, // reads storage.Column and BlockStats: storage owns the format
	"compaction":        {"ingest", "query", "bench", "cmd", "services"},
	"bench":             {"cmd"},
	"storage/block":     {"storage", "wal", "ingest", "query", "compaction", "bench", "cmd", "services"},
	// The HTTP API of queries drives the engine; it reaches storage only through
	// query's Store interface.
	"httpapi": {"storage", "wal", "ingest", "compaction", "bench", "cmd", "services"},
	// Users and privileges: below the HTTP edges and the engine, which ask it;
	// it stores records through its Persister interface, not the storage engine.
	"auth": {"storage", "wal", "ingest", "query/partial", "compaction", "bench", "cmd", "httpapi", "services"},
	// The lifecycle owner of background work knows no engine; services that
	// drive one live in services/<name>, each with its own entry here (the
	// longest prefix rules), beside the HTTP edges: nothing below imports them.
	"services": {"storage", "wal", "ingest", "query", "compaction", "bench", "cmd", "httpapi"},
	// The web console is static pages over the public HTTP API; it reads only
	// the parser's keywords and the function registry (query/influxql,
	// query/funcs) for its editor.
	"console": {"storage", "wal", "ingest", "compaction", "bench", "cmd", "httpapi", "services", "auth", "query/partial"},
	// Continuous queries drive the engine (query) and observe storage's
	// writes; they know nothing of the HTTP edges or ingestion.
	// The node protocol's answer codec is a leaf, as the partial states it embeds.
	"query/nodewire": {"storage", "wal", "ingest", "compaction", "bench", "cmd", "query/influxql", "httpapi", "services", "auth", "cluster"},
	// Peers and the fan-out client: at the edge, beside httpapi; never storage.
	"cluster":     {"storage", "wal", "ingest", "compaction", "bench", "cmd", "httpapi", "services"},
	"services/cq": {"wal", "ingest", "compaction", "bench", "cmd", "httpapi"},
	// The meta log applies DDL from a Kafka topic to the engine's catalog;
	// it knows neither the query engine (cmd adapts it) nor ingestion.
	"services/metalog": {"wal", "ingest", "query", "compaction", "bench", "cmd", "httpapi"},
}

// forbiddenStd maps a package (by directory prefix, sub-packages included) to the
// standard-library packages it must not import: the query engine knows nothing of
// HTTP, which lives in httpapi.
var forbiddenStd = map[string][]string{
	"query": {"net/http"},
}

// TestStdImports fails when a package imports a standard package its layer must
// not know (net/http in the engine).
func TestStdImports(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		for prefix, bad := range forbiddenStd {
			if dir != prefix && !strings.HasPrefix(dir, prefix+"/") {
				continue
			}
			checked++
			f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			for _, imp := range f.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				for _, b := range bad {
					if p == b || strings.HasPrefix(p, b+"/") {
						t.Errorf("%s imports %s: %s must not", path, p, prefix)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no files of the restricted packages found: the walk is broken")
	}
}

// TestImportDirection fails when a package imports one it must not: lower layers
// never reach up, nothing imports cmd.
func TestImportDirection(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		rules := rulesFor(dir)
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if !strings.HasPrefix(p, module) {
				continue
			}
			target := strings.TrimPrefix(p, module)
			if strings.HasPrefix(target, "cmd") {
				t.Errorf("%s imports %s: nothing may import cmd", path, p)
			}
			for _, bad := range rules {
				if slices.Contains(allowed[dir], target) {
					continue
				}
				if target == bad || strings.HasPrefix(target, bad+"/") {
					// A package may import its own sub-packages (storage -> storage/block).
					if strings.HasPrefix(target, dir+"/") {
						continue
					}
					t.Errorf("%s imports %s, against the dependency direction", path, p)
				}
			}
			checked++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no project imports found: the walk is broken")
	}
}

// allowed lists the exceptions to a package's rules: query/partial may import
// query/funcs (the arithmetic and types) and query/sketch (the sketches)
// though not the rest of query.
var allowed = map[string][]string{
	"query/partial":  {"query/funcs", "query/sketch", "query/binread"},
	"query/sketch":   {"query/binread"},
	"query/nodewire": {"query/binread"},
}

// rulesFor returns the rules of the longest matching directory prefix.
func rulesFor(dir string) []string {
	best := ""
	for prefix := range forbidden {
		if (dir == prefix || strings.HasPrefix(dir, prefix+"/")) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return forbidden[best]
}

package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"unicode"

	"github.com/strata-db/strata/console"
	"github.com/strata-db/strata/query/influxql"
)

func writeJSON(w io.Writer, body []byte, pretty bool) error {
	if !pretty {
		_, err := w.Write(body)
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "    "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// writeResults prints each statement's series as influx does: a table per
// series (column) or one CSV with name and tags columns (csv). A statement's
// error is printed and returned (the first one), so -execute fails.
func writeResults(w io.Writer, results []queryResult, format string) error {
	var first error
	for _, r := range results {
		for _, m := range r.Messages {
			fmt.Fprintf(w, "%s: %s\n", m.Level, m.Text)
		}
		if r.Error != "" {
			fmt.Fprintf(w, "ERR: %s\n", r.Error)
			if first == nil {
				first = errors.New(r.Error)
			}
			continue
		}
		var err error
		if format == "csv" {
			err = writeCSV(w, r.Series)
		} else {
			err = writeColumns(w, r.Series)
		}
		if err != nil {
			return err
		}
	}
	return first
}

func tagString(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + tags[k]
	}
	return strings.Join(parts, ", ")
}

func cellString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func writeColumns(w io.Writer, series []querySeries) error {
	for i, s := range series {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if s.Name != "" {
			fmt.Fprintf(w, "name: %s\n", s.Name)
		}
		if len(s.Tags) > 0 {
			fmt.Fprintf(w, "tags: %s\n", tagString(s.Tags))
		}
		tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
		fmt.Fprintln(tw, strings.Join(s.Columns, "\t"))
		dashes := make([]string, len(s.Columns))
		for j, c := range s.Columns {
			dashes[j] = strings.Repeat("-", len(c))
		}
		fmt.Fprintln(tw, strings.Join(dashes, "\t"))
		for _, row := range s.Values {
			cells := make([]string, len(row))
			for j, v := range row {
				cells[j] = cellString(v)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(series) > 0 {
		fmt.Fprintln(w)
	}
	return nil
}

func writeCSV(w io.Writer, series []querySeries) error {
	cw := csv.NewWriter(w)
	var header []string
	for _, s := range series {
		h := append([]string{"name", "tags"}, s.Columns...)
		if !slices.Equal(h, header) {
			if header != nil {
				cw.Write(nil)
			}
			header = h
			cw.Write(h)
		}
		tags := strings.ReplaceAll(tagString(s.Tags), ", ", ",")
		for _, row := range s.Values {
			rec := []string{s.Name, tags}
			for _, v := range row {
				rec = append(rec, cellString(v))
			}
			cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}

// completionNames holds the measurement names of the database in use; the
// completer reads them while the shell replaces them after `use`.
type completionNames struct {
	mu    sync.Mutex
	names []string
}

func (c *completionNames) set(names []string) {
	c.mu.Lock()
	c.names = slices.Clone(names)
	c.mu.Unlock()
}

func (c *completionNames) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.names
}

// shellWords are what Tab completes besides measurements: InfluxQL's keywords
// and function names as the console's editor has them (from the parser's token
// table and the function registry), and the shell's own commands.
func shellWords() []string {
	keywords, functions := console.Words()
	out := keywords
	for _, f := range functions {
		out = append(out, f+"(")
	}
	return append(out, "use", "format", "precision", "timing", "pretty", "settings", "help", "exit")
}

// completer is readline's AutoCompleter: it completes the word before the
// cursor from the keywords, functions and measurement names, keywords in the
// case the word was typed in.
type completer struct {
	names *completionNames
	words []string
}

func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	start := pos
	for start > 0 && (unicode.IsLetter(line[start-1]) || unicode.IsDigit(line[start-1]) || line[start-1] == '_' || line[start-1] == '"') {
		start--
	}
	word := string(line[start:pos])
	if word == "" {
		return nil, 0
	}
	if c.words == nil {
		c.words = shellWords()
	}
	lower := strings.ToLower(word)
	var out [][]rune
	add := func(cand string, keyword bool) {
		if !strings.HasPrefix(strings.ToLower(cand), lower) || len(cand) == len(word) {
			return
		}
		if keyword && word == strings.ToLower(word) {
			cand = strings.ToLower(cand)
		}
		out = append(out, []rune(cand[len(word):]))
	}
	for _, m := range c.names.get() {
		q := influxql.QuoteIdent(m)
		if strings.HasPrefix(word, `"`) {
			q = `"` + strings.TrimPrefix(q, `"`)
		}
		add(q, false)
	}
	for _, k := range c.words {
		add(k, true)
	}
	return out, len([]rune(word))
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chzyer/readline"

	"github.com/strata-db/strata/ingest/lineprotocol"
)

// shell is one `strata shell` session: the connection, what `use`, `format`,
// `precision` and `timing` set, and the measurement names completion offers.
type shell struct {
	c         *client
	out       io.Writer
	db, rp    string
	format    string // column, csv or json
	precision string // rfc3339 or an epoch unit
	pretty    bool
	timing    bool
	names     *completionNames
}

func shellCommand(args []string, stdout, stderr io.Writer) int {
	var conn clientFlags
	fs := flag.NewFlagSet("strata shell", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn.bind(fs)
	sh := &shell{out: stdout, names: &completionNames{}}
	fs.StringVar(&sh.db, "database", "", "database to use (as 'use DB')")
	fs.StringVar(&sh.format, "format", "column", "output format: column, csv or json")
	fs.StringVar(&sh.precision, "precision", "rfc3339", "time format: rfc3339, h, m, s, ms, u or ns")
	fs.BoolVar(&sh.pretty, "pretty", false, "indent JSON output")
	execute := fs.String("execute", "", "run these statements, print the answer and exit (status 1 on error)")
	history := fs.String("history-file", defaultHistoryFile(), "file keeping the statements of past sessions (\"\": none)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: strata shell [flags]

An interactive InfluxQL shell in the manner of influx. Besides InfluxQL it knows:
  use DB[.RP]                 set the database (and retention policy) of the statements
  insert LINE                 write one line of line protocol (timestamp in the precision set)
  format column|csv|json      set the output format
  precision rfc3339|h|m|s|ms|u|ns   set the time format
  pretty                      toggle indented JSON
  timing                      toggle printing each statement's duration
  settings                    show the settings
  help                        this list
  exit, quit                  leave (so does Ctrl-D)
A statement continues on the next line while its quotes or parentheses are open
or the line ends with a backslash. Tab completes keywords, functions and the
current database's measurement names.

Flags:
`)
		fs.PrintDefaults()
	}
	if status, ok := parseFlags(fs, args); !ok {
		return status
	}
	c, err := conn.client(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "strata shell: %v\n", err)
		return 2
	}
	sh.c = c
	if err := sh.checkSettings(); err != nil {
		fmt.Fprintf(stderr, "strata shell: %v\n", err)
		return 2
	}
	if *execute != "" {
		if err := sh.run(context.Background(), *execute); err != nil {
			fmt.Fprintf(stderr, "ERR: %v\n", err)
			return 1
		}
		return 0
	}
	return sh.interactive(os.Stdin, stdout, stderr, *history)
}

func defaultHistoryFile() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".strata_history")
}

func (sh *shell) checkSettings() error {
	switch sh.format {
	case "column", "csv", "json":
	default:
		return fmt.Errorf("unknown format %q: use column, csv or json", sh.format)
	}
	switch sh.precision {
	case "rfc3339", "h", "m", "s", "ms", "u", "ns":
	default:
		return fmt.Errorf("unknown precision %q: use rfc3339, h, m, s, ms, u or ns", sh.precision)
	}
	return nil
}

// interactive reads statements with line editing, history and completion
// until exit or end of input.
func (sh *shell) interactive(stdin io.ReadCloser, stdout, stderr io.Writer, history string) int {
	rl, err := readline.NewEx(&readline.Config{
		Prompt:            "> ",
		HistoryFile:       history,
		HistorySearchFold: true,
		AutoComplete:      &completer{names: sh.names},
		InterruptPrompt:   "^C",
		EOFPrompt:         "exit",
		Stdin:             stdin,
		Stdout:            stdout,
		Stderr:            stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "strata shell: %v\n", err)
		return 1
	}
	defer rl.Close()
	if v, err := sh.ping(); err != nil {
		fmt.Fprintf(stderr, "Failed to connect to %s: %v\n", sh.c.base, err)
	} else {
		fmt.Fprintf(stdout, "Connected to %s version %s\n", sh.c.base, v)
	}
	if sh.db != "" {
		sh.loadNames()
	}
	var pending strings.Builder
	for {
		line, err := rl.Readline()
		if errors.Is(err, readline.ErrInterrupt) {
			pending.Reset()
			rl.SetPrompt("> ")
			continue
		}
		if err != nil { // io.EOF: Ctrl-D or the end of piped input
			return 0
		}
		if pending.Len() > 0 {
			pending.WriteByte('\n')
		}
		pending.WriteString(line)
		text := pending.String()
		if continues(text) {
			if strings.HasSuffix(strings.TrimRight(text, " \t"), `\`) {
				pending.Reset()
				pending.WriteString(strings.TrimSuffix(strings.TrimRight(text, " \t"), `\`))
			}
			rl.SetPrompt("... ")
			continue
		}
		pending.Reset()
		rl.SetPrompt("> ")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if text == "exit" || text == "quit" {
			return 0
		}
		if err := sh.run(context.Background(), text); err != nil {
			fmt.Fprintf(stdout, "ERR: %v\n", err)
		}
	}
}

// continues tells whether a statement goes on after this line: an open quote,
// parenthesis, or a trailing backslash.
func continues(text string) bool {
	if strings.HasSuffix(strings.TrimRight(text, " \t"), `\`) {
		return true
	}
	var quote rune
	depth := 0
	escaped := false
	for _, r := range text {
		switch {
		case escaped:
			escaped = false
		case r == '\\' && quote != 0:
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '(':
			depth++
		case r == ')':
			depth--
		}
	}
	return quote != 0 || depth > 0
}

func (sh *shell) ping() (string, error) {
	resp, err := sh.c.http.Get(sh.c.endpoint("/ping", nil))
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	return resp.Header.Get("X-Influxdb-Version"), nil
}

// run executes one line: a shell command or InfluxQL.
func (sh *shell) run(ctx context.Context, text string) error {
	fields := strings.Fields(text)
	cmd := strings.ToLower(fields[0])
	switch {
	case cmd == "use" && len(fields) == 2:
		return sh.use(ctx, fields[1])
	case cmd == "format" && len(fields) == 2:
		return sh.set(&sh.format, fields[1])
	case cmd == "precision" && len(fields) == 2:
		return sh.set(&sh.precision, fields[1])
	case cmd == "pretty" && len(fields) == 1:
		sh.pretty = !sh.pretty
		fmt.Fprintf(sh.out, "Pretty print %s\n", onOff(sh.pretty))
		return nil
	case cmd == "timing" && len(fields) == 1:
		sh.timing = !sh.timing
		fmt.Fprintf(sh.out, "Timing %s\n", onOff(sh.timing))
		return nil
	case cmd == "settings" && len(fields) == 1:
		fmt.Fprintf(sh.out, "URL      %s\nUsername %s\nDatabase %s\nRetPolicy %s\nFormat   %s\nPrecision %s\nTiming   %s\n",
			sh.c.base, sh.c.username, sh.db, sh.rp, sh.format, sh.precision, onOff(sh.timing))
		return nil
	case cmd == "insert" && len(fields) > 1:
		return sh.insert(ctx, strings.TrimSpace(text[len(fields[0]):]))
	case cmd == "help" && len(fields) == 1:
		fmt.Fprint(sh.out, "use DB[.RP] | insert LINE | format column|csv|json | precision rfc3339|h|m|s|ms|u|ns | pretty | timing | settings | exit\nAnything else is sent to the server as InfluxQL.\n")
		return nil
	}
	return sh.query(ctx, text)
}

func onOff(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

func (sh *shell) set(field *string, v string) error {
	old := *field
	*field = strings.ToLower(v)
	if err := sh.checkSettings(); err != nil {
		*field = old
		return err
	}
	return nil
}

// use switches database (and policy), checking the database exists, and
// loads its measurement names for completion.
func (sh *shell) use(ctx context.Context, arg string) error {
	db, rp, _ := strings.Cut(arg, ".")
	db, rp = strings.Trim(db, `"`), strings.Trim(rp, `"`)
	res, err := sh.c.queryAll(ctx, "SHOW DATABASES", "")
	if err != nil {
		return err
	}
	found := false
	for _, name := range res[0].column(0) {
		found = found || name == db
	}
	if !found {
		return fmt.Errorf("database %s doesn't exist. Run SHOW DATABASES for a list of existing databases", db)
	}
	sh.db, sh.rp = db, rp
	sh.loadNames()
	if rp != "" {
		fmt.Fprintf(sh.out, "Using database %s and retention policy %s\n", db, rp)
	} else {
		fmt.Fprintf(sh.out, "Using database %s\n", db)
	}
	return nil
}

func (sh *shell) loadNames() {
	res, err := sh.c.queryAll(context.Background(), "SHOW MEASUREMENTS", sh.db)
	if err == nil && len(res) > 0 {
		sh.names.set(res[0].column(0))
	}
}

// insert writes one line of line protocol to the database in use, its
// timestamp read in the shell's precision (nanoseconds for rfc3339).
func (sh *shell) insert(ctx context.Context, line string) error {
	if sh.db == "" {
		return errors.New("no database in use: run 'use DB' first")
	}
	prec, err := parsePrecision(strings.Replace(sh.precision, "rfc3339", "ns", 1))
	if err != nil {
		return err
	}
	p := lineprotocol.NewParser()
	p.Reset([]byte(line), lineprotocol.Precision(prec), time.Now().UnixNano())
	pt, err := p.Next()
	if err != nil {
		return err
	}
	if err := sh.c.write(ctx, sh.db, sh.rp, lineprotocol.AppendPoint(nil, pt)); err != nil {
		var se *serverError
		if errors.As(err, &se) {
			return errors.New(se.Message)
		}
		return err
	}
	return nil
}

// query sends InfluxQL and prints the answer in the chosen format.
func (sh *shell) query(ctx context.Context, q string) error {
	params := url.Values{}
	if sh.db != "" {
		params.Set("db", sh.db)
	}
	if sh.rp != "" {
		params.Set("rp", sh.rp)
	}
	if sh.precision != "rfc3339" {
		params.Set("epoch", sh.precision)
	}
	start := time.Now()
	resp, err := sh.c.query(ctx, q, params)
	if err != nil {
		var se *serverError
		if errors.As(err, &se) {
			return errors.New(se.Message)
		}
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	var answer struct {
		Results []queryResult `json:"results"`
		Error   string        `json:"error"`
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&answer); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	if answer.Error != "" {
		return errors.New(answer.Error)
	}
	if sh.format == "json" {
		err = writeJSON(sh.out, body, sh.pretty)
	} else {
		err = writeResults(sh.out, answer.Results, sh.format)
	}
	if sh.timing {
		fmt.Fprintf(sh.out, "Elapsed: %v\n", elapsed.Round(time.Microsecond))
	}
	if verb := strings.ToUpper(strings.Fields(q)[0]); sh.db != "" && (verb == "CREATE" || verb == "DROP" || verb == "DELETE") {
		sh.loadNames() // the measurements completion offers may have changed
	}
	return err
}

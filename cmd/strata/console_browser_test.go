package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// findChromium returns the path of a Chromium (Debian's chromium package, which
// .ci/run installs). Without one the browser tests skip, except under CI,
// where they must run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium not found, and CI is set: .ci/run should have installed Debian's chromium package")
	}
	t.Skip("chromium not installed (apt-get install chromium): skipping the browser tests of the web console; CI runs them")
	return ""
}

// browser starts one headless Chromium for a test.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := findChromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1366, 900), // a laptop screen
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelCtx := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil { // starts the browser: no timeout on this context
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

// screenshotDir is where the console's screenshots go: docs/img with
// STRATA_UPDATE_SCREENSHOTS=1 (for the README), a temp dir otherwise.
func screenshotDir(t *testing.T) string {
	if os.Getenv("STRATA_UPDATE_SCREENSHOTS") == "1" {
		return "../../docs/img"
	}
	return t.TempDir()
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitJS polls a JavaScript expression until it is true.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("message").textContent`))
			t.Fatalf("timed out waiting for %s (message: %q)", expr, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func evalJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// setEditor replaces the editor's text as a paste would.
func setEditor(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	evalJS[bool](t, ctx, fmt.Sprintf(`(() => { const q = document.getElementById("q"); q.value = %q; q.dispatchEvent(new Event("input")); return true })()`, text))
}

// TestConsoleInBrowser drives the web console in headless Chromium against the
// real server: a link with a query runs it and charts one line per series; a
// typed query (with completion) fills the table with the right numbers; the
// schema browser and the status page show what the server has.
func TestConsoleInBrowser(t *testing.T) {
	ctx := browser(t)
	s, base := startTestServer(t, testConfig(t.TempDir()))
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE DATABASE metrics")
	// Two hosts, an hour of points a minute apart, ending now.
	end := time.Now().Truncate(time.Minute)
	var body strings.Builder
	for i := range 60 {
		ts := end.Add(-time.Duration(59-i) * time.Minute).UnixNano()
		fmt.Fprintf(&body, "cpu,host=web1,region=eu usage=%d %d\n", 10+i%7, ts)
		fmt.Fprintf(&body, "cpu,host=web2,region=us usage=%d %d\n", 50+i%5, ts)
		fmt.Fprintf(&body, "mem,host=web1 used=%di %d\n", 1000+i, ts)
	}
	if r := do(t, "POST", base+"/write?db=metrics", []byte(body.String()), nil); r.status != 204 {
		t.Fatalf("write: %d %s", r.status, r.body)
	}
	shots := screenshotDir(t)

	// 1. A link holds database, query, range and view; opening it runs the query.
	q := "SELECT mean(usage) FROM cpu WHERE $timeFilter GROUP BY time(5m), host"
	link := base + "/?" + url.Values{"db": {"metrics"}, "q": {q}, "range": {"6h"}, "view": {"chart"}}.Encode()
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `window.strataConsole && window.strataConsole.ready && window.strataConsole.chart !== null`)
	if n := evalJS[int](t, ctx, `window.strataConsole.chart.series.length - 1`); n != 2 {
		t.Fatalf("chart has %d lines, want one per host (2)", n)
	}
	labels := evalJS[[]string](t, ctx, `window.strataConsole.chart.series.slice(1).map(s => s.label)`)
	if strings.Join(labels, "|") != "cpu{host=web1}|cpu{host=web2}" {
		t.Fatalf("legend: %v", labels)
	}
	if got := evalJS[int](t, ctx, `document.querySelectorAll("#chart canvas").length`); got < 1 {
		t.Fatal("no canvas drawn")
	}
	if got := evalJS[string](t, ctx, `document.getElementById("q").value`); got != q {
		t.Fatalf("editor holds %q", got)
	}
	// Hovering shows the values in the legend; dragging zooms the time axis.
	box := evalJS[[]float64](t, ctx, `(() => { const r = document.querySelector("#chart .u-over").getBoundingClientRect(); return [r.left, r.top, r.width, r.height] })()`)
	x0, y0, w, h := box[0], box[1], box[2], box[3]
	before := evalJS[float64](t, ctx, `window.strataConsole.chart.scales.x.min`)
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, x0+w*0.95, y0+h/2)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `[...document.querySelectorAll(".u-legend .u-value")].slice(1).some(td => td.textContent !== "--" && td.textContent !== "")`)
	screenshot(t, ctx, shots, "console-chart.png")
	err := chromedp.Do(ctx,
		chromedp.MouseEvent(chromedp.MouseMoved, x0+w*0.85, y0+h/2),
		chromedp.MouseEvent(chromedp.MousePressed, x0+w*0.85, y0+h/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x0+w*0.9, y0+h/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseMoved, x0+w*0.98, y0+h/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(chromedp.MouseReleased, x0+w*0.98, y0+h/2, chromedp.ButtonLeft),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, fmt.Sprintf(`window.strataConsole.chart.scales.x.min > %f + 3600`, before))

	// 2. Type a query (completing the measurement name), run it, read the table.
	setEditor(t, ctx, "")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#view-table")),
		chromedp.Click(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "SELECT used FROM me"),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!document.getElementById("suggest").hidden && document.getElementById("suggest").textContent.includes("mem")`)
	// Tag values complete inside the quotes.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.SendKeys(chromedp.CSS("#q"), " WHERE host = 'w")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `!document.getElementById("suggest").hidden && document.getElementById("suggest").textContent.includes("web1")`)
	if err := chromedp.Do(ctx, chromedp.KeyEvent("\t"), chromedp.SendKeys(chromedp.CSS("#q"), " AND $timeFilter"), chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	// Switching to the table view first draws the chart query's rows as a
	// table, so wait for the typed query's own series, not for any row.
	waitJS(t, ctx, `[...document.querySelectorAll("#table caption")].map(c => c.textContent).join() === "mem"`)
	if got := evalJS[string](t, ctx, `document.getElementById("q").value`); got != "SELECT used FROM mem WHERE host = 'web1' AND $timeFilter" {
		t.Fatalf("completion left %q", got)
	}
	cells := evalJS[[]string](t, ctx, `[...document.querySelectorAll("#table tbody tr")].map(tr => tr.children[1].textContent)`)
	if len(cells) != 60 || cells[0] != "1000" || cells[59] != "1059" {
		t.Fatalf("table holds %d rows: %v", len(cells), cells)
	}
	if !strings.Contains(evalJS[string](t, ctx, `location.search`), "view=table") {
		t.Fatal("the URL does not hold the view")
	}
	csv := evalJS[string](t, ctx, `window.strataConsole.csvText()`)
	if !strings.HasPrefix(csv, "name,tags,time,used\nmem,,") || strings.Count(csv, "\n") != 61 {
		t.Fatalf("csv: %q", csv[:min(len(csv), 200)])
	}
	screenshot(t, ctx, shots, "console-table.png")

	// A bad query shows the server's error and keeps the page working.
	setEditor(t, ctx, "SELECT FROM")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#run"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById("message").className === "error" && document.getElementById("message").textContent.includes("error parsing query")`)

	// 3. Schema browser: measurements, fields with types, tag keys with counts.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#tab-schema"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelectorAll("#measurements li").length === 2 && document.getElementById("cardinality").textContent === "(3 series)"`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.Search(`//ul[@id="measurements"]/li[text()="cpu"]`))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.getElementById("schema-tags") !== null`)
	fields := evalJS[string](t, ctx, `document.getElementById("schema-fields").innerText`)
	tags := evalJS[string](t, ctx, `document.getElementById("schema-tags").innerText`)
	if !strings.Contains(fields, "usage\tfloat") || !strings.Contains(tags, "host\t2") || !strings.Contains(tags, "region\t2") {
		t.Fatalf("schema: fields %q tags %q", fields, tags)
	}
	if !strings.Contains(evalJS[string](t, ctx, `document.getElementById("schema-detail").innerText`), "(2 series)") {
		t.Fatal("no series count of the measurement")
	}
	screenshot(t, ctx, shots, "console-schema.png")

	// 4. Status page from /metrics: series count now, ingest rate on the next sample.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#tab-status"))); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `(document.querySelector('[data-card="Series"] b') || {}).textContent === "3 "`)
	do(t, "POST", base+"/write?db=metrics", []byte("cpu,host=web3 usage=1"), nil)
	waitJS(t, ctx, `(document.querySelector('[data-card="Series"] b') || {}).textContent === "4 " && !document.querySelector('[data-card="Ingest"] b').textContent.startsWith("…")`)
	if !strings.Contains(evalJS[string](t, ctx, `document.getElementById("queries").innerText`), "SHOW QUERIES") {
		t.Fatal("running queries lack SHOW QUERIES itself")
	}
	if disk := evalJS[string](t, ctx, `document.querySelector('[data-card="Disk"] b').textContent`); disk == "0 B" || disk == "…" {
		t.Fatalf("disk use %q", disk)
	}

	// 5. Dark theme, remembered across loads.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#theme"))); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, shots, "console-status-dark.png")
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `window.strataConsole && window.strataConsole.ready && document.documentElement.classList.contains("dark")`)
}

// TestConsoleLogin: with --auth-enabled the console asks for credentials and
// then works with them.
func TestConsoleLogin(t *testing.T) {
	ctx := browser(t)
	cfg := testConfig(t.TempDir())
	cfg.authEnabled = true
	s, base := startTestServer(t, cfg)
	defer s.shutdown(5 * time.Second)
	runQuery(t, base, "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES")
	do(t, "POST", base+"/query?u=admin&p=pw", []byte("q=CREATE+DATABASE+secured"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	// A 401 shows the console's own login form (not the browser's prompt).
	waitJS(t, ctx, `window.strataConsole && window.strataConsole.ready && document.getElementById("message").className === "error" && !document.getElementById("login").hidden`)
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#user"), "admin"),
		chromedp.SendKeys(chromedp.CSS("#pass"), "pw"),
		chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `[...document.querySelectorAll("#db option")].some(o => o.textContent === "secured")`)
}

// Command abquery compares two running Strata servers holding the same TSBS
// data, query type by query type: the same queries go to both, alternating
// which goes first, and it reports each server's median latency and its CPU
// per query (user+system time of its process, read from /proc, so a busy
// shared machine skews it less than latency). bench/race/ab-at-rest.sh starts
// the two servers; run it with -h for the flags.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strata-db/strata/bench"
)

// cpu is the user+system time of process pid (clock ticks of 10 ms).
func cpu(pid int) time.Duration {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	s := string(b)
	f := strings.Fields(s[strings.LastIndex(s, ")")+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

func main() {
	urlA := flag.String("a", "", "base URL of server A (before)")
	urlB := flag.String("b", "", "base URL of server B (after)")
	pidA := flag.Int("pa", 0, "process id of server A")
	pidB := flag.Int("pb", 0, "process id of server B")
	runs := flag.Int("runs", 50, "queries per type")
	only := flag.String("types", "", "comma-separated query types (default: all of TSBS's)")
	flag.Parse()
	if *urlA == "" || *urlB == "" || *pidA == 0 || *pidB == 0 {
		fmt.Fprintln(os.Stderr, "abquery: -a, -b, -pa and -pb are required")
		os.Exit(2)
	}
	// The data strata bench loads by default; PlanQueries' seeds, so each type
	// draws the queries strata bench runs.
	cfg := bench.DefaultGenConfig()
	types := bench.QueryTypes
	if *only != "" {
		types = strings.Split(*only, ",")
	}
	hosts := cfg.Hosts
	start := cfg.Start.UnixNano()
	end := start + int64(cfg.Duration)
	c := &http.Client{}
	do := func(base, q string) time.Duration {
		t := time.Now()
		resp, err := c.Get(base + "/query?db=benchmark&q=" + url.QueryEscape(q))
		if err != nil {
			fmt.Fprintln(os.Stderr, "abquery:", err)
			os.Exit(1)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(t)
	}
	fmt.Printf("%-24s %9s %9s %6s   %9s %9s %6s\n", "type", "A med ms", "B med ms", "B/A", "A cpu ms", "B cpu ms", "B/A")
	for ti, typ := range types {
		gen := bench.NewQueryGen(1+uint64(ti)*0x9e3779b97f4a7c15, hosts, start, end)
		var qs []string
		for range *runs {
			q, err := gen.Next(typ)
			if err != nil {
				fmt.Fprintln(os.Stderr, "abquery:", err)
				os.Exit(2)
			}
			qs = append(qs, q.Text)
		}
		for _, q := range qs[:min(5, len(qs))] { // warm caches alike
			do(*urlA, q)
			do(*urlB, q)
		}
		var la, lb []time.Duration
		var ca, cb time.Duration
		for i, q := range qs {
			order := []int{0, 1}
			if i%2 == 1 {
				order = []int{1, 0}
			}
			for _, o := range order {
				if o == 0 {
					c0 := cpu(*pidA)
					la = append(la, do(*urlA, q))
					ca += cpu(*pidA) - c0
				} else {
					c0 := cpu(*pidB)
					lb = append(lb, do(*urlB, q))
					cb += cpu(*pidB) - c0
				}
			}
		}
		ma, mb := med(la), med(lb)
		fmt.Printf("%-24s %9.2f %9.2f %6.2f   %9.1f %9.1f %6.2f\n", typ, ms(ma), ms(mb), float64(mb)/float64(ma), ms(ca)/float64(*runs), ms(cb)/float64(*runs), float64(cb)/float64(ca))
	}
}

func med(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}
func ms(d time.Duration) float64 { return float64(d) / 1e6 }

package bench

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Measurement is the measurement every generated line belongs to.
const Measurement = "cpu"

// FieldNames are the ten float fields of a cpu line, in TSBS's order. Query types
// that use "M metrics" use the first M of them.
var FieldNames = [NumFields]string{
	"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
	"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
}

// NumFields is the number of fields per line; values = lines × NumFields.
const NumFields = 10

// TagKeys are the tag keys of a cpu line in the order TSBS writes them.
var TagKeys = [10]string{
	"hostname", "region", "datacenter", "rack", "os", "arch", "team",
	"service", "service_version", "service_environment",
}

// Value range and walk step, in hundredths: values have two decimals, so integer
// hundredths make every expected answer exact.
const (
	maxCenti  = 100_00 // values stay in [0, 100]
	stepCenti = 1_00   // each interval moves a value by at most ±1.00
)

// region is a TSBS region and its datacenters.
type region struct {
	name        string
	datacenters []string
}

var regions = []region{
	{"us-east-1", []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"}},
	{"us-west-1", []string{"us-west-1a", "us-west-1b"}},
	{"us-west-2", []string{"us-west-2a", "us-west-2b", "us-west-2c"}},
	{"eu-west-1", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
	{"eu-central-1", []string{"eu-central-1a", "eu-central-1b"}},
	{"ap-southeast-1", []string{"ap-southeast-1a", "ap-southeast-1b"}},
	{"ap-southeast-2", []string{"ap-southeast-2a", "ap-southeast-2b"}},
	{"ap-northeast-1", []string{"ap-northeast-1a", "ap-northeast-1c"}},
	{"sa-east-1", []string{"sa-east-1a", "sa-east-1b", "sa-east-1c"}},
}

var (
	osChoices   = []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}
	archChoices = []string{"x64", "x86"}
	teamChoices = []string{"SF", "NYC", "LON", "CHI"}
	envChoices  = []string{"production", "staging", "test"}
)

// TSBS's tag cardinalities for the numeric tags.
const (
	rackChoices           = 100
	serviceChoices        = 20
	serviceVersionChoices = 2
)

// GenConfig describes a cpu-only data set and how it is cut into requests.
type GenConfig struct {
	Hosts      int           // number of hosts, host_0 … host_{Hosts-1}
	Start      time.Time     // time of the first point of every host
	Interval   time.Duration // time between two points of a host
	Duration   time.Duration // points are at Start + k×Interval < Start + Duration
	Seed       uint64        // everything random derives from it
	BatchLines int           // lines per request body; the last body may be shorter
	Gzip       bool          // gzip the bodies (at generation time, before timing)
}

// DefaultGenConfig is the standard TSBS cpu-only scale-100 day.
func DefaultGenConfig() GenConfig {
	return GenConfig{
		Hosts:      100,
		Start:      time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC),
		Interval:   10 * time.Second,
		Duration:   24 * time.Hour,
		Seed:       1,
		BatchLines: 5000,
	}
}

func (c GenConfig) validate() error {
	switch {
	case c.Hosts <= 0:
		return fmt.Errorf("hosts must be positive, got %d", c.Hosts)
	case c.Interval <= 0:
		return fmt.Errorf("interval must be positive, got %v", c.Interval)
	case c.Duration < c.Interval:
		return fmt.Errorf("duration %v is shorter than the interval %v", c.Duration, c.Interval)
	case c.BatchLines <= 0:
		return fmt.Errorf("batch must be positive, got %d", c.BatchLines)
	}
	return nil
}

// PointsPerHost is the number of points each host reports.
func (c GenConfig) PointsPerHost() int {
	return int((c.Duration + c.Interval - 1) / c.Interval)
}

// Host is one simulated machine and its tag values.
type Host struct {
	Name, Region, Datacenter, Rack, OS, Arch, Team, Service, ServiceVersion, ServiceEnvironment string
}

// Tag returns the value of tag key k, or "" when k is not one of TagKeys.
func (h *Host) Tag(k string) string {
	switch k {
	case "hostname":
		return h.Name
	case "region":
		return h.Region
	case "datacenter":
		return h.Datacenter
	case "rack":
		return h.Rack
	case "os":
		return h.OS
	case "arch":
		return h.Arch
	case "team":
		return h.Team
	case "service":
		return h.Service
	case "service_version":
		return h.ServiceVersion
	case "service_environment":
		return h.ServiceEnvironment
	}
	return ""
}

// Dataset is a generated data set: the values, for computing expected answers, and
// the request bodies, for loading.
type Dataset struct {
	Config    GenConfig
	Hosts     []Host
	NumPoints int // points per host

	// centi holds every value in hundredths, time-major like the lines:
	// index ((point×hosts)+host)×NumFields + field.
	centi []uint16

	Bodies   [][]byte // request bodies in sending order, gzip-compressed if Config.Gzip
	Lines    int64    // lines in all bodies
	RawBytes int64    // line protocol bytes before compression
	// Elapsed is how long generation took, reported apart from the load.
	Elapsed time.Duration
}

// Values is the number of field values in the data set.
func (d *Dataset) Values() int64 { return d.Lines * NumFields }

// SentBytes is the number of body bytes the load sends.
func (d *Dataset) SentBytes() int64 {
	var n int64
	for _, b := range d.Bodies {
		n += int64(len(b))
	}
	return n
}

// Centi returns field f of host h at point p, in hundredths.
func (d *Dataset) Centi(h, p, f int) int {
	return int(d.centi[(p*len(d.Hosts)+h)*NumFields+f])
}

// Value returns field f of host h at point p as the server parses it: the double
// nearest to the two-decimal text, which is exactly centi/100 in IEEE arithmetic.
func (d *Dataset) Value(h, p, f int) float64 {
	return float64(d.Centi(h, p, f)) / 100
}

// Time returns the timestamp of point p in nanoseconds since the epoch.
func (d *Dataset) Time(p int) int64 {
	return d.Config.Start.UnixNano() + int64(p)*int64(d.Config.Interval)
}

// EndTime is the end of the data set's time range (exclusive), as TSBS's
// --timestamp-end.
func (d *Dataset) EndTime() int64 {
	return d.Config.Start.UnixNano() + int64(d.Config.Duration)
}

// hostRand returns the random source of host h: a function of the seed and the host
// number only, so a host's tags and walk do not depend on how many hosts there are.
func hostRand(seed uint64, h int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix(seed), splitmix(seed^splitmix(uint64(h)+1))))
}

// splitmix is SplitMix64's finalizer: it spreads neighbouring seeds over the whole
// state space so that host streams are unrelated.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newHost draws the tags of host h in TSBS's order of draws.
func newHost(r *rand.Rand, h int) Host {
	reg := &regions[r.IntN(len(regions))]
	return Host{
		Name:               "host_" + strconv.Itoa(h),
		Region:             reg.name,
		Datacenter:         reg.datacenters[r.IntN(len(reg.datacenters))],
		Rack:               strconv.Itoa(r.IntN(rackChoices)),
		Arch:               archChoices[r.IntN(len(archChoices))],
		OS:                 osChoices[r.IntN(len(osChoices))],
		Service:            strconv.Itoa(r.IntN(serviceChoices)),
		ServiceVersion:     strconv.Itoa(r.IntN(serviceVersionChoices)),
		ServiceEnvironment: envChoices[r.IntN(len(envChoices))],
		Team:               teamChoices[r.IntN(len(teamChoices))],
	}
}

// Generate builds the data set and all request bodies in memory.
func Generate(cfg GenConfig) (*Dataset, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	begin := time.Now()
	nh, np := cfg.Hosts, cfg.PointsPerHost()
	if int64(nh)*int64(np)*NumFields > 1<<34 {
		return nil, errors.New("data set too large: more than 2^34 values")
	}
	d := &Dataset{
		Config:    cfg,
		Hosts:     make([]Host, nh),
		NumPoints: np,
		centi:     make([]uint16, nh*np*NumFields),
		Lines:     int64(nh) * int64(np),
	}
	parallel(nh, func(h int) {
		r := hostRand(cfg.Seed, h)
		d.Hosts[h] = newHost(r, h)
		var cur [NumFields]int
		for f := range cur {
			cur[f] = r.IntN(maxCenti + 1)
		}
		for p := 0; p < np; p++ {
			row := d.centi[(p*nh+h)*NumFields:]
			for f := range cur {
				if p > 0 {
					cur[f] = min(max(cur[f]+r.IntN(2*stepCenti+1)-stepCenti, 0), maxCenti)
				}
				row[f] = uint16(cur[f])
			}
		}
	})

	prefixes := make([][]byte, nh)
	maxPrefix := 0
	for h := range d.Hosts {
		prefixes[h] = appendPrefix(nil, &d.Hosts[h])
		maxPrefix = max(maxPrefix, len(prefixes[h]))
	}
	nb := int((d.Lines + int64(cfg.BatchLines) - 1) / int64(cfg.BatchLines))
	d.Bodies = make([][]byte, nb)
	raw := make([]int64, nb)
	var gzErr error
	var gzOnce sync.Once
	parallel(nb, func(b int) {
		lo := int64(b) * int64(cfg.BatchLines)
		hi := min(lo+int64(cfg.BatchLines), d.Lines)
		// Sized to an upper bound so the body is allocated exactly once.
		est := (maxPrefix + maxLineFields) * int(hi-lo)
		body := make([]byte, 0, est)
		for i := lo; i < hi; i++ {
			body = d.appendLine(body, prefixes, int(i))
		}
		raw[b] = int64(len(body))
		if cfg.Gzip {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			_, err := zw.Write(body)
			if err == nil {
				err = zw.Close()
			}
			if err != nil {
				gzOnce.Do(func() { gzErr = err })
			}
			body = buf.Bytes()
		}
		d.Bodies[b] = body
	})
	if gzErr != nil {
		return nil, fmt.Errorf("gzip body: %w", gzErr)
	}
	for _, n := range raw {
		d.RawBytes += n
	}
	d.Elapsed = time.Since(begin)
	return d, nil
}

// maxLineFields bounds the field section and timestamp of one line: keys and
// separators, values of at most 5 bytes ("99.99"), a space, a 20-byte timestamp
// (any int64) and the newline.
var maxLineFields = func() int {
	n := 0
	for _, k := range fieldKeys {
		n += len(k) + 5
	}
	return n + 1 + 20 + 1
}()

// parallel runs fn(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				fn(int(i))
			}
		})
	}
	wg.Wait()
}

// appendPrefix appends "cpu,hostname=…,service_environment=… " (tags in TSBS's
// order; no value needs escaping).
func appendPrefix(dst []byte, h *Host) []byte {
	dst = append(dst, Measurement...)
	for _, k := range TagKeys {
		dst = append(dst, ',')
		dst = append(dst, k...)
		dst = append(dst, '=')
		dst = append(dst, h.Tag(k)...)
	}
	return append(dst, ' ')
}

// fieldKeys are the field keys with their separators, precomputed for appendLine.
var fieldKeys = func() [NumFields]string {
	var k [NumFields]string
	for i, f := range FieldNames {
		if i > 0 {
			k[i] = ","
		}
		k[i] += f + "="
	}
	return k
}()

// appendLine appends line i (time-major: point i/hosts of host i%hosts).
func (d *Dataset) appendLine(dst []byte, prefixes [][]byte, i int) []byte {
	nh := len(d.Hosts)
	p, h := i/nh, i%nh
	dst = append(dst, prefixes[h]...)
	row := d.centi[i*NumFields : (i+1)*NumFields]
	for f, c := range row {
		dst = append(dst, fieldKeys[f]...)
		dst = appendCenti(dst, int(c))
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, d.Time(p), 10)
	return append(dst, '\n')
}

// appendCenti appends c/100 in the shortest decimal form ("12.3", "12.34", "12"),
// which is also how InfluxDB prints the stored float back.
func appendCenti(dst []byte, c int) []byte {
	dst = strconv.AppendInt(dst, int64(c/100), 10)
	switch frac := c % 100; {
	case frac == 0:
	case frac%10 == 0:
		dst = append(dst, '.', byte('0'+frac/10))
	default:
		dst = append(dst, '.', byte('0'+frac/10), byte('0'+frac%10))
	}
	return dst
}

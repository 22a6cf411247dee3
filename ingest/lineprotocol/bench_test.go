package lineprotocol

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// benchCPUBody builds n lines shaped like TSBS's cpu-only data set.
func benchCPUBody(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	regions := []string{"eu-west-1", "us-east-1", "ap-northeast-1", "sa-east-1"}
	var sb strings.Builder
	fields := []string{"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice"}
	for i := range n {
		reg := regions[i%len(regions)]
		fmt.Fprintf(&sb, "cpu,hostname=host_%d,region=%s,datacenter=%sa,rack=%d,os=Ubuntu16.10,arch=x86,team=NYC,service=%d,service_version=1,service_environment=staging ",
			i%100, reg, reg, r.IntN(100), r.IntN(20))
		for j, f := range fields {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, "%s=%.2f", f, r.Float64()*100)
		}
		fmt.Fprintf(&sb, " %d\n", 1451606400000000000+int64(i/100)*10_000_000_000)
	}
	return sb.String()
}

// benchEscapedBody builds n lines with escapes, unsorted tags and every type.
func benchEscapedBody(n int) string {
	var sb strings.Builder
	for i := range n {
		fmt.Fprintf(&sb, `disk\ io,path=/var/lib\,x,host=h%d,dev\=x=sd\ a read_bytes=%di,written=%du,util=%d.25,ok=true,msg="said \"hi\" %d",e\ x=1e-3 %d`+"\n",
			i%50, i*4096, i*17, i%100, i, 1700000000+i)
	}
	return sb.String()
}

func benchmarkParse(b *testing.B, body []byte) {
	p := NewParser()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset(body, Nanosecond, 0)
		for {
			_, err := p.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParse(b *testing.B) {
	benchmarkParse(b, []byte(benchCPUBody(5000)))
}

func BenchmarkParse_EscapesMixedTypes(b *testing.B) {
	benchmarkParse(b, []byte(benchEscapedBody(5000)))
}

func BenchmarkParse_StringsMultiline(b *testing.B) {
	var sb strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&sb, "log,app=api,level=info msg=\"request %d done\nstack: none\",code=200i %d\n", i, i)
	}
	benchmarkParse(b, []byte(sb.String()))
}

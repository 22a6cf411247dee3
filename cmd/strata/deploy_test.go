package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.yaml.in/yaml/v3"
)

// k8sObject is the part of a Kubernetes manifest the deployment test reads.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		ClusterIP   string `yaml:"clusterIP"`
		ServiceName string `yaml:"serviceName"`
		Ports       []struct {
			Port int `yaml:"port"`
		} `yaml:"ports"`
		Template struct {
			Spec struct {
				Containers []struct {
					Args  []string `yaml:"args"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
					} `yaml:"ports"`
					LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
					ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
					StartupProbe   *k8sProbe `yaml:"startupProbe"`
					VolumeMounts   []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name   string `yaml:"name"`
					Secret *struct {
						SecretName string `yaml:"secretName"`
					} `yaml:"secret"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
		ScaleTargetRef struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"scaleTargetRef"`
		Metrics []struct {
			Type string `yaml:"type"`
			Pods *struct {
				Metric struct {
					Name string `yaml:"name"`
				} `yaml:"metric"`
			} `yaml:"pods"`
			External *struct {
				Metric struct {
					Name string `yaml:"name"`
				} `yaml:"metric"`
			} `yaml:"external"`
		} `yaml:"metrics"`
	} `yaml:"spec"`
}

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// pendingFlags are flags the manifests use that another part of the tree
// adds (the query fan-out's peer discovery); each is checked as soon as
// `strata serve` defines it.
var pendingFlags = map[string]bool{"peers-dns": true}

// TestKubernetesManifests parses deploy/kubernetes and checks what must agree
// with the server: every flag exists in `strata serve`, the ports are the
// default HTTP port, the probes' paths answer on a running server (with
// Kafka ingest, so /ready is the real one), the volume is mounted at
// --data-dir and claimed per pod, the headless Service is the StatefulSet's,
// and the HPA's metric is one /metrics exports.
func TestKubernetesManifests(t *testing.T) {
	objs := map[string]k8sObject{}
	files, err := filepath.Glob("../../deploy/kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var o k8sObject
		if err := yaml.Unmarshal(b, &o); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		objs[o.Kind] = o
	}
	sts, svc, hpa := objs["StatefulSet"], objs["Service"], objs["HorizontalPodAutoscaler"]
	if sts.Kind == "" || svc.Kind == "" || hpa.Kind == "" {
		t.Fatalf("want a StatefulSet, a Service and an HPA, have %v", objs)
	}
	_, defPort, _ := strings.Cut(defaultServeConfig().httpAddr, ":")
	if svc.Spec.ClusterIP != "None" || sts.Spec.ServiceName != svc.Metadata.Name {
		t.Errorf("the StatefulSet's service %q must be the headless Service %q (clusterIP %q)", sts.Spec.ServiceName, svc.Metadata.Name, svc.Spec.ClusterIP)
	}
	if len(svc.Spec.Ports) != 1 || strconv.Itoa(svc.Spec.Ports[0].Port) != defPort {
		t.Errorf("Service ports %v, want the default HTTP port %s", svc.Spec.Ports, defPort)
	}
	if len(sts.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one container")
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if len(c.Ports) != 1 || strconv.Itoa(c.Ports[0].ContainerPort) != defPort {
		t.Errorf("container ports %v, want %s", c.Ports, defPort)
	}

	// Flags: each must exist, and parse with the values the manifest gives
	// (the $(VAR) expansions stand for a pod's values).
	if len(c.Args) == 0 || c.Args[0] != "serve" {
		t.Fatalf("args %v: want strata serve", c.Args)
	}
	var cfg serveConfig
	fs := serveFlags(&cfg, defaultServeConfig(), &strings.Builder{})
	var args []string
	values := map[string]string{}
	for _, a := range c.Args[1:] {
		name, val, ok := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || !ok {
			t.Errorf("arg %q: want --flag=value", a)
			continue
		}
		values[name] = val
		if fs.Lookup(name) == nil && pendingFlags[name] {
			t.Logf("--%s is not a flag of strata serve yet (pending)", name)
			continue
		}
		args = append(args, "--"+name+"="+strings.ReplaceAll(val, "$(POD_NAME)", "strata-0"))
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("strata serve refuses the manifest's flags: %v", err)
	}
	if _, port, _ := strings.Cut(cfg.httpAddr, ":"); port != defPort {
		t.Errorf("--http-addr %s: port must be the containerPort %s", cfg.httpAddr, defPort)
	}
	if values["node-id"] != "$(POD_NAME)" {
		t.Errorf("--node-id=%q: want the pod name, $(POD_NAME)", values["node-id"])
	}
	if dns := values["peers-dns"]; !strings.HasPrefix(dns, svc.Metadata.Name+".") {
		t.Errorf("--peers-dns=%q does not name the headless Service %q", dns, svc.Metadata.Name)
	}

	// Storage: --data-dir is the mount of a per-pod claim.
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range sts.Spec.VolumeClaimTemplates {
			if m.Name == v.Metadata.Name && filepath.Clean(m.MountPath) == filepath.Clean(cfg.dataDir) {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("--data-dir %s is not the mount of a volumeClaimTemplate (%v)", cfg.dataDir, c.VolumeMounts)
	}

	// The cluster secret: a file in a mounted Secret volume.
	secretMounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range sts.Spec.Template.Spec.Volumes {
			if m.Name == v.Name && v.Secret != nil && v.Secret.SecretName != "" && filepath.Dir(cfg.clusterSecretFile) == filepath.Clean(m.MountPath) {
				secretMounted = true
			}
		}
	}
	if !secretMounted {
		t.Errorf("--cluster-secret-file %q is not a file of a mounted Secret volume", cfg.clusterSecretFile)
	}

	// Probes and metrics against a running server with Kafka ingest.
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Fatal("want liveness and readiness probes")
	}
	if c.LivenessProbe.HTTPGet.Path != "/health" || c.ReadinessProbe.HTTPGet.Path != "/ready" {
		t.Errorf("probes %s and %s: want /health (liveness) and /ready (readiness)", c.LivenessProbe.HTTPGet.Path, c.ReadinessProbe.HTTPGet.Path)
	}
	_, addr := kafkaCluster(t)
	produce(t, producer(t, addr, kgo.NoCompression()), 0, 10)
	s, base := startTestServer(t, kafkaTestConfig(t.TempDir(), addr))
	defer s.shutdown(10 * time.Second)
	waitReady(t, base, 30*time.Second, func() string { return "" })
	for _, p := range []*k8sProbe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		if p.HTTPGet.Port != c.Ports[0].Name {
			t.Errorf("probe %s on port %q, want %q", p.HTTPGet.Path, p.HTTPGet.Port, c.Ports[0].Name)
		}
		if r := do(t, "GET", base+p.HTTPGet.Path, nil, nil); r.status != http.StatusOK {
			t.Errorf("probe path %s answers %d %s", p.HTTPGet.Path, r.status, r.body)
		}
	}
	if hpa.Spec.ScaleTargetRef.Kind != "StatefulSet" || hpa.Spec.ScaleTargetRef.Name != sts.Metadata.Name {
		t.Errorf("HPA scales %v, want the StatefulSet %s", hpa.Spec.ScaleTargetRef, sts.Metadata.Name)
	}
	if len(hpa.Spec.Metrics) == 0 {
		t.Fatal("HPA without metrics")
	}
	// A per-partition series such as the consumer's lag appears once the
	// consumer has fetched its partition, which can come after /ready (seen
	// on a loaded 2-core CI run): poll for it rather than read /metrics once.
	deadline := time.Now().Add(30 * time.Second)
	for _, m := range hpa.Spec.Metrics {
		name := ""
		switch {
		case m.Pods != nil:
			name = m.Pods.Metric.Name
		case m.External != nil:
			name = m.External.Metric.Name
		}
		for {
			metrics := do(t, "GET", base+"/metrics", nil, nil).body
			if name != "" && strings.Contains(metrics, "\n"+name+"{") {
				break
			}
			if name == "" || time.Now().After(deadline) {
				t.Errorf("HPA metric %q (%s) is not in /metrics", name, m.Type)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

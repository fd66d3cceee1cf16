package goveda

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// parseExposition parses body with the Prometheus text parser (the one the server uses), so
// anything it rejects would be rejected by a scrape.
func parseExposition(t *testing.T, body string) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("exposition rejected by the Prometheus parser: %v\n%s", err, body)
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			key := name
			for _, l := range m.GetLabel() {
				key += "," + l.GetName() + "=" + l.GetValue()
			}
			switch {
			case m.Counter != nil:
				out[key] = m.Counter.GetValue()
			case m.Gauge != nil:
				out[key] = m.Gauge.GetValue()
			case m.Summary != nil:
				out[key+",count"] = float64(m.Summary.GetSampleCount())
				for _, q := range m.Summary.GetQuantile() {
					out[key+",q="+model.FloatString(q.GetQuantile()).String()] = q.GetValue()
				}
			case m.Untyped != nil:
				out[key] = m.Untyped.GetValue()
			}
		}
	}
	return out
}

func TestMetricsHandlerServesValidExposition(t *testing.T) {
	rt := newRT(t, Config{Workers: 2})
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		if _, err := Submit(rt, TaskOptions{}, func(context.Context) (int, error) { return i, nil }).Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rt.SumF32(ctx, make([]float32, 1<<12)); err != nil { // devices discovered: labelled series
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt.MetricsHandler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != MetricsContentType {
		t.Fatalf("status %d content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	vals := parseExposition(t, string(body))
	if vals["veda_workers"] != 2 {
		t.Fatalf("veda_workers = %v", vals["veda_workers"])
	}
	if vals["veda_tasks_submitted_total"] < 50 {
		t.Fatalf("veda_tasks_submitted_total = %v", vals["veda_tasks_submitted_total"])
	}
	if vals["veda_device_dispatched_total,device=0,kind=cpu"] < 1 {
		t.Fatalf("no CPU device series: %v", vals)
	}
	if vals["veda_kernel_seconds,device=0,count"] < 1 || vals["veda_task_wait_seconds,count"] < 50 {
		t.Fatalf("kernel-time or wait histograms not counted: kernel %v, wait %v",
			vals["veda_kernel_seconds,device=0,count"], vals["veda_task_wait_seconds,count"])
	}
	resp, err = http.Post(srv.URL, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST got %d", resp.StatusCode)
	}
}

func TestServeMetrics(t *testing.T) {
	rt := newRT(t, Config{Workers: 1})
	s, err := rt.ServeMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("addr %s", s.Addr())
	}
	resp, err := http.Get("http://" + s.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	parseExposition(t, string(body))
	// the address is taken: an error now, wrapping ErrInvalidArgument
	if s2, err := rt.ServeMetrics(s.Addr()); err == nil {
		s2.Close()
		t.Fatal("a taken address was accepted")
	} else if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("taken address: %v", err)
	}
	for _, bad := range []string{"nocolon", "300.1.1.1:80", "127.0.0.1:99999"} {
		if s2, err := rt.ServeMetrics(bad); err == nil {
			s2.Close()
			t.Fatalf("%q accepted", bad)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if c, err := net.Dial("tcp", s.Addr()); err == nil {
		c.Close()
		t.Fatal("still listening after Close")
	}
}

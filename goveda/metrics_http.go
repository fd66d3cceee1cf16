package goveda

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// MetricsContentType is the content type of the Prometheus text exposition format (0.0.4).
const MetricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// DefaultMetricsAddr is where ServeMetrics listens when given "": loopback only, on the port
// registered for Prometheus exporters of this kind.
const DefaultMetricsAddr = "127.0.0.1:9464"

// MetricsHandler returns an http.Handler that serves rt's metrics in the Prometheus text
// exposition format (what Metrics().Prometheus() returns) on GET and HEAD; other methods get
// 405. Mount it at the scrape path ("/metrics"). Each request costs one Metrics snapshot
// (O(workers) plus merging the histograms: microseconds). Safe for concurrent requests.
func (rt *Runtime) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "veda: metrics: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body := rt.Metrics().Prometheus()
		w.Header().Set("Content-Type", MetricsContentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write([]byte(body))
	})
}

// MetricsServer is an HTTP server of one runtime's metrics, started by ServeMetrics.
type MetricsServer struct {
	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
	err  error
}

// Addr returns the address the server listens on (with the port chosen, for ":0").
func (s *MetricsServer) Addr() string { return s.ln.Addr().String() }

// Close stops the server: the listener closes at once and requests in progress get up to one
// second to finish. Idempotent; later calls return nil. Any goroutine.
func (s *MetricsServer) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.err = s.srv.Shutdown(ctx)
		<-s.done
	})
	return s.err
}

// ServeMetrics listens on addr ("host:port"; "" means DefaultMetricsAddr, loopback only) and
// serves MetricsHandler at /metrics, with a short index page at /. It binds only where told:
// to expose metrics beyond this machine, pass an explicit address. The listen happens before
// ServeMetrics returns, so an address already in use, or not allowed, is an error here (wrapping
// ErrInvalidArgument), never later. Stop the server with its Close, or every server of rt with
// StopMetrics; Runtime.Close stops them too. Any goroutine.
func (rt *Runtime) ServeMetrics(addr string) (*MetricsServer, error) {
	if addr == "" {
		addr = DefaultMetricsAddr
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, invalidf("metrics address %q is not host:port (%v)", addr, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot listen for metrics on %s: %v", ErrInvalidArgument, addr, errors.Unwrap(err))
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", rt.MetricsHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<html><body><h1>veda</h1><p><a href="/metrics">/metrics</a> (Prometheus text format)</p></body></html>`)
	})
	s := &MetricsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		ln:   ln,
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln) // returns http.ErrServerClosed after Shutdown
	}()
	rt.metricsMu.Lock()
	rt.metricsSrv = append(rt.metricsSrv, s)
	rt.metricsMu.Unlock()
	return s, nil
}

// StopMetrics stops every server ServeMetrics started on rt. ErrInvalidArgument when none is
// running. Any goroutine.
func (rt *Runtime) StopMetrics() error {
	rt.metricsMu.Lock()
	srvs := rt.metricsSrv
	rt.metricsSrv = nil
	rt.metricsMu.Unlock()
	if len(srvs) == 0 {
		return invalidf("no metrics server is running")
	}
	var errs []error
	for _, s := range srvs {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}

// stopMetricsAtClose stops the servers of a closing runtime.
func (rt *Runtime) stopMetricsAtClose() {
	rt.metricsMu.Lock()
	srvs := rt.metricsSrv
	rt.metricsSrv = nil
	rt.metricsMu.Unlock()
	for _, s := range srvs {
		_ = s.Close()
	}
}

package api

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"
)

// BenchmarkGatewayShape is the floor the gateway's figure is read
// against: a bare net/http program of the gateway's shape (a client's
// request; a provider's long poll handed the task; 15 ms of work on every
// core, yielding as the runtime's thread pool does; the answer posted back
// through a pipe opened before the work; the response), with none of the
// gateway's parsing, checks or signatures. added-µs is the median time a
// request takes beyond its work: the cost of the four loopback hops on
// this machine (see the README's gateway figure).
func BenchmarkGatewayShape(b *testing.B) {
	const work = 15 * time.Millisecond
	tasks, answers := make(chan struct{}), make(chan []byte)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /poll", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-tasks:
			w.Write([]byte(`{"task":1}`))
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /answer", func(w http.ResponseWriter, r *http.Request) {
		a, _ := io.ReadAll(r.Body)
		answers <- a
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /req", func(w http.ResponseWriter, r *http.Request) {
		tasks <- struct{}{}
		w.Write(<-answers)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	post := func(path string, body io.Reader) {
		resp, err := http.Post(base+path, "application/json", body)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // the provider: poll, work, answer
		for {
			select {
			case <-stop:
				return
			default:
			}
			post("/poll", bytes.NewReader([]byte(`{}`)))
			pr, pw := io.Pipe()
			sent := make(chan struct{})
			go func() { post("/answer", pr); close(sent) }()
			var wg sync.WaitGroup
			for range runtime.GOMAXPROCS(0) {
				wg.Go(func() { yieldingSpin(work) })
			}
			wg.Wait()
			pw.Write(make([]byte, 1000))
			pw.Close()
			<-sent
		}
	}()
	var added []time.Duration
	for b.Loop() {
		start := time.Now()
		post("/req", bytes.NewReader([]byte(`{}`)))
		added = append(added, time.Since(start)-work)
	}
	sort.Slice(added, func(i, j int) bool { return added[i] < added[j] })
	b.ReportMetric(float64(added[len(added)/2].Microseconds()), "added-µs")
}

// yieldingSpin keeps a core busy for d, yielding every 20 µs.
func yieldingSpin(d time.Duration) {
	last := time.Now()
	for start := last; time.Since(start) < d; {
		if time.Since(last) > 20*time.Microsecond {
			runtime.Gosched()
			last = time.Now()
		}
	}
}

// The bench load client: holds N SSE connections to one server, triggers the
// server's publisher, counts every event on every connection and measures the
// publish→receive latency (each event's data carries its publish time, µs since
// the epoch; server and client share the machine's clock).
//
// Standard library only. Driven over stdin/stdout by bench/run.mjs, one command a
// line, one JSON object a line back:
//
//	connect N [PATH]          open N connections to <base>PATH (default /events; 200 + SSE headers);
//	                          a paced run reports the percentiles of each PATH too ("paths")
//	run burst K [0 B]         POST <base>/publish?run=R&n=K&rate=0&batch=B, wait for N×K events
//	run paced K RATE          POST <base>/publish?run=R&n=K&rate=RATE, wait for N×K events
//	run schedule K RATE B     POST <base>/publish?run=R&n=K&rate=RATE&batch=B&stamp=schedule:
//	                          B events every B / RATE s, latency from each event's scheduled time
//	close                     close every connection
//	quit
//
// One epoll loop reads every connection (see pollLoop). Every wait is bounded: a run ends when all events arrived, when nothing arrived
// for -quiet, or at -max.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type conn struct {
	file    *os.File // owns fd
	fd      int
	count   int64   // events of the current run received (atomic)
	samples []int64 // latencies (µs) of the current run, when sampling
	path    string  // what it requested (a run's percentiles per path: two hubs of one server)
	closed  bool

	// Parser state (touched by the poll loop only, under mu).
	chunked    bool
	cstate     int // 0: chunk-size line, 1: chunk data, 2: the CRLF after chunk data
	chunkLeft  int
	size       int
	sizeDigits bool
	inExt      bool
	line       []byte // a partial line carried over to the next read
}

var (
	base       string
	host       string
	conns      []*conn
	byFd       = map[int32]*conn{}
	mu         sync.Mutex // held by the poll loop while it handles a batch of reads
	epfd       int
	currentRun int64 // atomic
	sampling   int32 // atomic: 1 while a run keeps latency samples
	received   int64 // atomic: events of the current run, all connections
	lastRecv   int64 // µs of the last event of the current run (under mu)
	firstSent  int64 // the earliest publish stamp (µs) seen in the current run (under mu)
	dropped    int64 // atomic: connections that ended (EOF or error) while open
	reads      int64 // read syscalls that returned data (under mu)
	wakeups    int64 // epoll_wait returns (under mu)
	quiet      = flag.Duration("quiet", 3*time.Second, "a run ends after this long without an event")
	maxWait    = flag.Duration("max", 60*time.Second, "a run never waits longer than this")
	dialers    = flag.Int("dialers", 64, "connections opened in parallel")
	maxPause   = flag.Duration("pause", 50*time.Millisecond, "the longest pause between poll rounds in a burst")
	pause      int64 // atomic, ns: the pause between poll rounds in the current burst
)

func nowMicro() int64 { return time.Now().UnixMicro() }

// intAfter parses the integer that follows key in line, or returns -1.
func intAfter(line []byte, key []byte) int64 {
	i := bytes.Index(line, key)
	if i < 0 {
		return -1
	}
	var v int64
	j := i + len(key)
	for ; j < len(line) && line[j] >= '0' && line[j] <= '9'; j++ {
		v = v*10 + int64(line[j]-'0')
	}
	if j == i+len(key) {
		return -1
	}
	return v
}

var keyRun = []byte(`"r":`)
var keyTime = []byte(`"t":`)
var dataPrefix = []byte("data:")

// handleLine counts one line of the event stream: a "data:" line of the current run is an event.
func (k *conn) handleLine(line []byte, now int64) {
	if len(line) < 5 || line[0] != 'd' || !bytes.HasPrefix(line, dataPrefix) {
		return
	}
	if intAfter(line, keyRun) != atomic.LoadInt64(&currentRun) {
		return
	}
	atomic.AddInt64(&k.count, 1)
	atomic.AddInt64(&received, 1)
	if now > lastRecv {
		lastRecv = now
	}
	sent := intAfter(line, keyTime)
	if sent > 0 && sent < firstSent {
		firstSent = sent
	}
	if sent > 0 && atomic.LoadInt32(&sampling) == 1 {
		k.samples = append(k.samples, now-sent)
	}
}

// body feeds decoded body bytes, splitting lines.
func (k *conn) body(data []byte, now int64) {
	for len(data) > 0 {
		j := bytes.IndexByte(data, '\n')
		if j < 0 {
			if len(k.line)+len(data) <= 4096 {
				k.line = append(k.line, data...)
			}
			return
		}
		if len(k.line) > 0 {
			k.line = append(k.line, data[:j]...)
			k.handleLine(k.line, now)
			k.line = k.line[:0]
		} else {
			k.handleLine(data[:j], now)
		}
		data = data[j+1:]
	}
}

// feed decodes the HTTP/1.1 chunked transfer coding (what every server here sends for
// a streamed body) or passes a plain body through.
func (k *conn) feed(buf []byte, now int64) {
	if !k.chunked {
		k.body(buf, now)
		return
	}
	for i := 0; i < len(buf); {
		switch k.cstate {
		case 0:
			b := buf[i]
			i++
			switch {
			case b == '\n':
				if k.sizeDigits {
					k.chunkLeft, k.cstate = k.size, 1
					if k.size == 0 {
						k.cstate = 2
					}
				}
				k.size, k.sizeDigits, k.inExt = 0, false, false
			case b == ';':
				k.inExt = true
			case !k.inExt && b >= '0' && b <= '9':
				k.size, k.sizeDigits = k.size*16+int(b-'0'), true
			case !k.inExt && b >= 'a' && b <= 'f':
				k.size, k.sizeDigits = k.size*16+int(b-'a'+10), true
			case !k.inExt && b >= 'A' && b <= 'F':
				k.size, k.sizeDigits = k.size*16+int(b-'A'+10), true
			}
		case 1:
			m := len(buf) - i
			if m > k.chunkLeft {
				m = k.chunkLeft
			}
			k.body(buf[i:i+m], now)
			i += m
			k.chunkLeft -= m
			if k.chunkLeft == 0 {
				k.cstate = 2
			}
		case 2:
			if buf[i] == '\n' {
				k.cstate = 0
			}
			i++
		}
	}
}

// pollLoop reads every connection from one epoll loop: one read syscall per ready
// socket per wake-up (64 KiB buffer), no goroutine per connection, so the client
// costs less per event than any server writing it.
func pollLoop() {
	runtime.LockOSThread()
	events := make([]syscall.EpollEvent, 4096)
	buf := make([]byte, 64*1024)
	for {
		n, err := syscall.EpollWait(epfd, events, -1)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			fmt.Fprintln(os.Stderr, "epoll_wait:", err)
			os.Exit(1)
		}
		now := nowMicro()
		mu.Lock()
		wakeups++
		for _, ev := range events[:n] {
			k := byFd[ev.Fd]
			if k == nil || k.closed {
				continue
			}
			r, err := syscall.Read(k.fd, buf)
			if r > 0 {
				reads++
				k.feed(buf[:r], now)
				continue
			}
			if err == syscall.EAGAIN || err == syscall.EINTR {
				continue
			}
			// EOF or error: the server ended this stream.
			atomic.AddInt64(&dropped, 1)
			k.closed = true
			delete(byFd, ev.Fd)
			k.file.Close()
		}
		mu.Unlock()
		// A full array: more sockets are ready. Read them all before pausing, or a round
		// reads 4,096 of 10k sockets per pause and the pause, not the server, sets the pace.
		if n == len(events) {
			continue
		}
		// A burst measures throughput: reading less often costs the client fewer syscalls
		// per event than the server pays to write them (latency runs read immediately).
		if d := atomic.LoadInt64(&pause); d > 0 {
			time.Sleep(time.Duration(d))
		}
	}
}

func open(path string) (*conn, error) {
	c, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close() // the poll loop reads a duplicate of its fd
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(c, 4096)
	status, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("status line: %w", err)
	}
	if !strings.Contains(status, " 200") {
		return nil, fmt.Errorf("status %q", strings.TrimSpace(status))
	}
	k := &conn{path: path}
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("headers: %w", err)
		}
		h = strings.TrimRight(h, "\r\n")
		if h == "" {
			break
		}
		lower := strings.ToLower(h)
		if strings.HasPrefix(lower, "transfer-encoding:") && strings.Contains(lower, "chunked") {
			k.chunked = true
		}
	}
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return nil, err
	}
	k.file, k.fd = f, int(f.Fd())
	if err := syscall.SetNonblock(k.fd, true); err != nil {
		f.Close()
		return nil, err
	}
	rest, _ := r.Peek(r.Buffered())
	mu.Lock()
	defer mu.Unlock()
	k.feed(rest, nowMicro())
	byFd[int32(k.fd)] = k
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(k.fd)}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, k.fd, &ev); err != nil {
		delete(byFd, int32(k.fd))
		f.Close()
		return nil, err
	}
	return k, nil
}

func connect(n int, path string) map[string]any {
	start := time.Now()
	var mu sync.Mutex
	var failed int
	var firstErr string
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	var wg sync.WaitGroup
	for w := 0; w < *dialers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				k, err := open(path)
				mu.Lock()
				if err != nil {
					failed++
					if firstErr == "" {
						firstErr = err.Error()
					}
				} else {
					conns = append(conns, k)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return map[string]any{"connected": len(conns), "failed": failed, "error": firstErr, "ms": time.Since(start).Milliseconds()}
}

func cpuMicros() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000
}

func percentile(sorted []int64, p float64) float64 {
	if len(sorted) == 0 {
		return -1
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i]) / 1000 // ms
}

func run(mode string, k int, rate float64, batch int) map[string]any {
	mu.Lock()
	runID := atomic.AddInt64(&currentRun, 1)
	sample := mode != "burst"
	for _, c := range conns {
		atomic.StoreInt64(&c.count, 0)
		c.samples = c.samples[:0]
		if sample && cap(c.samples) < k {
			c.samples = make([]int64, 0, k)
		}
	}
	atomic.StoreInt64(&received, 0)
	lastRecv, firstSent = 0, 1<<62
	reads, wakeups = 0, 0
	droppedBefore := atomic.LoadInt64(&dropped)
	// A burst's pause grows with N (10 µs a connection, 1-50 ms): the last event is seen
	// at most one pause late, a small error against a burst of N×K events.
	p := time.Duration(len(conns)) * 10 * time.Microsecond
	if p < time.Millisecond {
		p = time.Millisecond
	}
	if p > *maxPause {
		p = *maxPause
	}
	if sample {
		atomic.StoreInt32(&sampling, 1)
		atomic.StoreInt64(&pause, 0)
	} else {
		atomic.StoreInt32(&sampling, 0)
		atomic.StoreInt64(&pause, int64(p))
	}
	mu.Unlock()
	expected := int64(len(conns)) * int64(k)
	cpu0 := cpuMicros()
	start := nowMicro()
	url := fmt.Sprintf("%s/publish?run=%d&n=%d&rate=%g&batch=%d", base, runID, k, rate, batch)
	if mode == "schedule" {
		url += "&stamp=schedule"
	}
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		return map[string]any{"error": err.Error()}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return map[string]any{"error": "publish status " + resp.Status}
	}
	deadline := time.Now().Add(*maxWait)
	lastCount, lastChange := int64(-1), time.Now()
	for {
		got := atomic.LoadInt64(&received)
		if got >= expected {
			break
		}
		if got != lastCount {
			lastCount, lastChange = got, time.Now()
		}
		// Quiet counts from the first event: a server may take longer than -quiet to publish a
		// big burst before its first byte goes out (raw-deno, 1,000 events to 10k in one turn).
		if (got > 0 && time.Since(lastChange) > *quiet) || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cpu := cpuMicros() - cpu0
	wall := nowMicro() - start
	mu.Lock() // the poll loop is between batches: a consistent snapshot
	defer mu.Unlock()
	atomic.StoreInt32(&sampling, 0)
	atomic.StoreInt64(&pause, 0)
	end, first := lastRecv, firstSent
	got := atomic.LoadInt64(&received)
	out := map[string]any{
		"mode": mode, "n": len(conns), "k": k, "rate": rate, "batch": batch,
		"expected": expected, "received": got, "lost": expected - got,
		"disconnected":  atomic.LoadInt64(&dropped) - droppedBefore,
		"client_cpu_ms": float64(cpu) / 1000, "reads": reads, "wakeups": wakeups, "pause_ms": float64(p) / 1e6, "client_wall_ms": float64(wall) / 1000,
	}
	short := 0
	for _, c := range conns {
		if atomic.LoadInt64(&c.count) < int64(k) {
			short++
		}
	}
	out["connections_short"] = short
	if sample {
		var all []int64
		byPath := map[string][]int64{}
		for _, c := range conns {
			all = append(all, c.samples...)
			byPath[c.path] = append(byPath[c.path], c.samples...)
		}
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		out["samples"] = len(all)
		out["p50_ms"] = percentile(all, 0.50)
		out["p99_ms"] = percentile(all, 0.99)
		out["max_ms"] = percentile(all, 1)
		if len(byPath) > 1 {
			paths := map[string]any{}
			for path, list := range byPath {
				sort.Slice(list, func(i, j int) bool { return list[i] < list[j] })
				paths[path] = map[string]any{"samples": len(list), "p50_ms": percentile(list, 0.50), "p99_ms": percentile(list, 0.99)}
			}
			out["paths"] = paths
		}
	}
	if mode != "paced" {
		// From the first event's own publish stamp, so the POST's round trip is not counted.
		if first == 1<<62 {
			first = start
		}
		out["elapsed_ms"] = float64(end-first) / 1000
		if end > first {
			out["events_per_s"] = float64(got) / (float64(end-first) / 1e6)
		}
	}
	return out
}

func closeAll() map[string]any {
	mu.Lock()
	defer mu.Unlock()
	for _, c := range conns {
		if !c.closed {
			c.closed = true
			delete(byFd, int32(c.fd))
			c.file.Close()
		}
	}
	n := len(conns)
	conns = nil
	return map[string]any{"closed": n}
}

func main() {
	flag.StringVar(&base, "url", "", "server base URL, e.g. http://127.0.0.1:8000")
	flag.Parse()
	if base == "" {
		fmt.Fprintln(os.Stderr, "usage: loadclient -url http://127.0.0.1:PORT")
		os.Exit(2)
	}
	host = strings.TrimPrefix(strings.TrimPrefix(base, "http://"), "https://")
	var err error
	if epfd, err = syscall.EpollCreate1(0); err != nil {
		fmt.Fprintln(os.Stderr, "epoll_create1:", err)
		os.Exit(1)
	}
	go pollLoop()
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		var res map[string]any
		switch f[0] {
		case "connect":
			n, _ := strconv.Atoi(f[1])
			path := "/events"
			if len(f) > 2 {
				path = f[2]
			}
			res = connect(n, path)
		case "run":
			k, _ := strconv.Atoi(f[2])
			rate, batch := 0.0, 1
			if len(f) > 3 {
				rate, _ = strconv.ParseFloat(f[3], 64)
			}
			if len(f) > 4 {
				batch, _ = strconv.Atoi(f[4])
			}
			res = run(f[1], k, rate, batch)
		case "close":
			res = closeAll()
		case "quit":
			closeAll()
			return
		default:
			res = map[string]any{"error": "unknown command " + f[0]}
		}
		_ = out.Encode(res)
	}
	closeAll()
}

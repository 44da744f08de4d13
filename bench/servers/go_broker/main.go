// Baseline (d): the classic Go SSE broker on net/http, standard library only.
// One broker goroutine owns the client set; each client has a buffered channel;
// a publish is encoded once and offered to every channel without blocking (a full
// channel drops the event for that client, so a slow client never stalls the
// others); each handler writes and flushes what its channel yields.
//
// Same protocol as the other bench servers:
//
//	GET  /events                          the SSE stream (topic "bench")
//	POST /publish?run=R&n=K&rate=RATE[&batch=B][&stamp=schedule]
//	                                      publishes K events (rate 0: back to back, batch ignored:
//	                                      the publisher goroutine never waits for writers; else B
//	                                      events every B / RATE s; stamp=schedule: "t" is the
//	                                      scheduled time, so a late timer counts as latency)
//	POST /gc                              collects garbage before an RSS reading
//
// Prints "listening <port>" once it accepts connections.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

const buffer = 1024 // events a client may fall behind before it loses some

type broker struct {
	notifier chan []byte
	add      chan chan []byte
	remove   chan chan []byte
	clients  map[chan []byte]struct{}
}

func (b *broker) listen() {
	for {
		select {
		case c := <-b.add:
			b.clients[c] = struct{}{}
		case c := <-b.remove:
			delete(b.clients, c)
		case msg := <-b.notifier:
			for c := range b.clients {
				select {
				case c <- msg:
				default: // full: this client loses the event
				}
			}
		}
	}
}

func (b *broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	ch := make(chan []byte, buffer)
	b.add <- ch
	defer func() { b.remove <- ch }()
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(":\n\n"))
	flusher.Flush()
	done := r.Context().Done()
	for {
		select {
		case <-done:
			return
		case msg := <-ch:
			if _, err := w.Write(msg); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

var pad = strings.Repeat("x", 40)

func (b *broker) publishAll(run string, n int, rate float64, batch int, onSchedule bool) {
	start := time.Now()
	for i := 0; i < n; i++ {
		var due time.Time
		if rate > 0 {
			due = start.Add(time.Duration(float64(i-i%batch) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				time.Sleep(d)
			}
		}
		t := time.Now().UnixMicro()
		if onSchedule {
			t = due.UnixMicro()
		}
		// json.Marshal of a struct gives the same bytes; written out to keep the fields in order.
		data := `{"r":` + run + `,"i":` + strconv.Itoa(i) + `,"t":` + strconv.FormatInt(t, 10) + `,"p":"` + pad + `"}`
		b.notifier <- []byte("id: " + strconv.FormatInt(t, 10) + strconv.Itoa(i) + "\ndata: " + data + "\n\n")
	}
}

func main() {
	b := &broker{
		notifier: make(chan []byte, 1),
		add:      make(chan chan []byte),
		remove:   make(chan chan []byte),
		clients:  map[chan []byte]struct{}{},
	}
	go b.listen()
	mux := http.NewServeMux()
	mux.Handle("/events", b)
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		n, _ := strconv.Atoi(q.Get("n"))
		rate, _ := strconv.ParseFloat(q.Get("rate"), 64)
		batch, err := strconv.Atoi(q.Get("batch"))
		if err != nil || batch < 1 {
			batch = 1
		}
		run := q.Get("run")
		if _, err := strconv.Atoi(run); err != nil {
			http.Error(w, "bad run", http.StatusBadRequest)
			return
		}
		go b.publishAll(run, n, rate, batch, rate > 0 && q.Get("stamp") == "schedule")
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("/gc", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		w.WriteHeader(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening %d\n", ln.Addr().(*net.TCPAddr).Port)
	_ = http.Serve(ln, mux)
}

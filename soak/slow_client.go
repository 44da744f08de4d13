// A deliberately slow SSE client for the hardening tests and the soak: it shrinks its TCP
// receive window (SO_RCVBUF, set before connect so the window stays small) and reads a few
// bytes at a time, with a pause between reads. node:net cannot do either (no SO_RCVBUF,
// and its paused sockets keep reading into user space on some runtimes).
//
//	go run soak/slow_client.go -addr 127.0.0.1:8000 -path /events/t -rcvbuf 4096 -read 1 -every 1s
//
// Prints "connected" once the request is written, then, when the server ends the
// connection (or on SIGTERM/SIGINT), one JSON line: {"bytes": n, "end": "eof"|"reset"|"signal"|"error"}.
// A line "drain" on stdin makes it read as fast as it can from then on: it then reports
// as soon as the server has ended the connection (and never, if the server kept it open).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "host:port")
	path := flag.String("path", "/", "request path")
	rcvbuf := flag.Int("rcvbuf", 4096, "SO_RCVBUF in bytes (the kernel doubles it)")
	readSize := flag.Int("read", 1, "bytes per read")
	every := flag.Duration("every", time.Second, "pause between reads")
	var extra headers
	flag.Var(&extra, "header", "extra request header (repeatable)")
	flag.Parse()

	dialer := net.Dialer{Control: func(network, address string, c syscall.RawConn) error {
		var err error
		if ctlErr := c.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, *rcvbuf)
		}); ctlErr != nil {
			return ctlErr
		}
		return err
	}}
	conn, err := dialer.Dial("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	request := "GET " + *path + " HTTP/1.1\r\nHost: " + *addr + "\r\nAccept: text/event-stream\r\n"
	for _, h := range extra {
		request += h + "\r\n"
	}
	if _, err := conn.Write([]byte(request + "\r\n")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Println("connected")

	var total int64
	report := func(end string) {
		line, _ := json.Marshal(map[string]any{"bytes": atomic.LoadInt64(&total), "end": end})
		fmt.Println(string(line))
		os.Exit(0)
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-signals
		report("signal")
	}()
	var draining int32
	go func() {
		line := make([]byte, 64)
		for {
			n, err := os.Stdin.Read(line)
			if strings.Contains(string(line[:n]), "drain") {
				atomic.StoreInt32(&draining, 1)
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, *readSize)
	big := make([]byte, 64*1024)
	for {
		chunk := buf
		if atomic.LoadInt32(&draining) == 1 {
			chunk = big
		}
		n, err := conn.Read(chunk)
		atomic.AddInt64(&total, int64(n))
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				report("eof")
			case errors.Is(err, syscall.ECONNRESET):
				report("reset")
			default:
				report("error")
			}
		}
		if atomic.LoadInt32(&draining) == 0 {
			time.Sleep(*every)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bluegreen/bluegreen/test/awsfake"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "awsfake:", err)
		os.Exit(1)
	}
}

// run serves the fake until ctx is done.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("awsfake", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on; port 0 picks a free port")
	seedPath := fs.String("seed", "", "JSON file of resources to create at start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := awsfake.New(awsfake.Options{})
	ids := &IDs{}
	if *seedPath != "" {
		seed, err := readSeed(*seedPath)
		if err != nil {
			return err
		}
		if ids, err = load(srv, seed); err != nil {
			return fmt.Errorf("seed %s: %w", *seedPath, err)
		}
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *listen, err)
	}
	idLine, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("marshal seeded ids: %w", err)
	}
	if _, err := fmt.Fprintf(stdout, "http://%s\n%s\n", l.Addr(), idLine); err != nil {
		return fmt.Errorf("print url: %w", err)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(l) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

package appliance

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
)

// keyFile holds the key that signs web sessions and CSRF tokens, so that
// logins survive a restart.
const keyFile = "web-session.key"

// signingKey returns the data directory's signing key, made on first use.
// When it cannot be kept, a fresh key serves this run.
func signingKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, keyFile)
	key, err := os.ReadFile(path)
	if err == nil && len(key) >= 32 {
		return key, nil
	}
	key = make([]byte, 32)
	rand.Read(key)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return key, fmt.Errorf("read %s: %w", path, err)
	}
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return key, fmt.Errorf("keep the session key: %w", err)
	}
	return key, nil
}

// loadTLS reads a certificate and its key (PEM).
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// limitListener accepts at most n connections at once; the next waits in
// the kernel's backlog until one closes. A flood of connections then
// costs a bounded number of goroutines and buffers.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

type limitedListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitedListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitedListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

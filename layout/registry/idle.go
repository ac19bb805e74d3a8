package registry

import (
	"context"
	"net"
	"time"
)

// idleTimeout bounds how long one read or write on a registry connection
// may wait without moving a byte: a registry that stops sending a body
// (or reading an upload) mid-transfer fails the request with a timeout,
// which is retried and resumed like a dropped connection, instead of
// hanging the command. It matches the wait allowed for response headers
// (a registry may think that long before answering the final PUT of a
// multi-GB upload). A variable for tests.
var idleTimeout = 10 * time.Minute

// idleDialer dials like d and wraps each connection in idleConn.
func idleDialer(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: c, idle: idleTimeout}, nil
	}
}

// idleConn gives every Read and Write a deadline of idle from its start.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// benchCPU is CPU time spent, in the bench process and in PostgreSQL.
type benchCPU struct {
	self, pg time.Duration
}

func (c benchCPU) add(o benchCPU) benchCPU { return benchCPU{c.self + o.self, c.pg + o.pg} }
func (c benchCPU) sub(o benchCPU) benchCPU { return benchCPU{c.self - o.self, c.pg - o.pg} }

// perRow formats c spread over n rows, in µs.
func (c benchCPU) perRow(n int) string {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) / float64(n) }
	return fmt.Sprintf("%.0f µs here + %.0f µs in PostgreSQL = %.0f µs", us(c.self), us(c.pg), us(c.self+c.pg))
}

// benchBackends are the PIDs of the PostgreSQL backends of a pool, whose
// CPU time /proc shows when PostgreSQL runs on this machine.
type benchBackends []int

func (b benchBackends) note() string {
	if len(b) == 0 {
		return ", not measured: PostgreSQL is not local"
	}
	return fmt.Sprintf(", %d connections", len(b))
}

// benchBackendPIDs opens every connection of pool (the single-row paths
// share it) and returns their backends' PIDs, or nil when /proc does not
// show them (PostgreSQL elsewhere).
func benchBackendPIDs(ctx context.Context, pool *pgxpool.Pool) benchBackends {
	var conns []*pgxpool.Conn
	defer func() {
		for _, c := range conns {
			c.Release()
		}
	}()
	var pids benchBackends
	for range pool.Config().MaxConns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			return nil
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			return nil
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/schedstat", pid)); err != nil {
			return nil
		}
		pids = append(pids, pid)
	}
	return pids
}

// readBenchCPU reads this process's CPU time (user and system) and the
// backends' (from /proc/PID/schedstat, in ns).
func readBenchCPU(backends benchBackends) benchCPU {
	var c benchCPU
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		c.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for _, pid := range backends {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/schedstat")
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			c.pg += time.Duration(ns)
		}
	}
	return c
}

package main

import (
	"context"
	"io"
)

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return usageError{"bench: not built yet"}
}

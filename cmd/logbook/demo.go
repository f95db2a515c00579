package main

import (
	"context"
	"io"
)

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return usageError{"demo: not built yet"}
}

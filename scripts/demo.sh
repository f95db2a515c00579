#!/usr/bin/env bash
# demo.sh runs Logbook's end-to-end demo on this machine: it makes sure
# PostgreSQL (with pgvector) and Redis run (scripts/services.sh), then runs
# `logbook demo`, which migrates a database, starts the server, posts sample
# data and prints the results. Arguments are passed on to `logbook demo`.
#
# Usage: bash scripts/demo.sh [flags for logbook demo]
set -euo pipefail

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

bash scripts/services.sh
exec go run ./cmd/logbook demo "$@"

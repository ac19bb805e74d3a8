#!/usr/bin/env bash
# scripts/registry.sh — run a throw-away OCI distribution registry for tests.
#
# Usage:
#   scripts/registry.sh start DIR   start a registry; print "127.0.0.1:PORT"
#   scripts/registry.sh stop DIR    stop the registry started in DIR
#   scripts/registry.sh status DIR  exit 0 iff the registry in DIR is running
#                                   (prints its address)
#
# Contract:
#   * DIR is a caller-owned (temporary) directory; it is created if missing.
#     start writes DIR/config.yml, stores blobs under DIR/data (filesystem
#     driver, deletes enabled), sends all registry output to DIR/registry.log,
#     and records DIR/port and DIR/pid.
#   * The registry listens on 127.0.0.1 only, plain HTTP, on a free port
#     (chosen with python3, retried if the port is taken in the meantime).
#   * start returns once GET http://127.0.0.1:PORT/v2/ answers (curl, or a bash
#     /dev/tcp fallback), at most 30 s; otherwise it stops the process, shows
#     the log tail on stderr and exits 1. The only stdout line is the address,
#     so ADDR="$(scripts/registry.sh start "$dir")" works. If DIR already has a
#     running registry, start just prints its address.
#   * stop kills the recorded PID (TERM, then KILL after 10 s), waits until it
#     is gone, removes DIR/pid. Stopping a DIR with no running registry is ok.
#   * The `registry` binary is taken from the tools bin dir
#     (${OCI_PACK_TOOLS:-$HOME/.cache/oci-pack-tools}/bin, see
#     scripts/tools.sh), falling back to $PATH.
set -euo pipefail

BIN="${OCI_PACK_TOOLS:-$HOME/.cache/oci-pack-tools}/bin"
START_TIMEOUT=30

log() { printf 'registry.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

# running DIR: the PID recorded in DIR is alive and is our registry.
running() {
	local pid
	[[ -f "$1/pid" ]] || return 1
	pid="$(cat "$1/pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Guard against PID reuse: the process must be serving DIR/config.yml.
	if [[ -r "/proc/$pid/cmdline" ]]; then
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$1/config.yml" || return 1
	fi
}

free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
	else
		# No python3: a random high port; start() retries if it is taken.
		echo $((20000 + RANDOM % 40000))
	fi
}

# probe PORT: does GET /v2/ answer with any HTTP status?
probe() {
	if command -v curl >/dev/null 2>&1; then
		curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/v2/"
		return
	fi
	local line
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		IFS= read -r -t 2 line <&3 && [[ "$line" == HTTP/* ]]
	) 2>/dev/null
}

write_config() { # DIR PORT
	cat >"$1/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $1/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
  headers:
    X-Content-Type-Options: [nosniff]
EOF
}

cmd_start() {
	local dir="$1" reg port pid attempt deadline
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if running "$dir"; then
		echo "127.0.0.1:$(cat "$dir/port")"
		return 0
	fi
	reg="$BIN/registry"
	if [[ ! -x "$reg" ]]; then
		reg="$(command -v registry || true)"
		[[ -n "$reg" ]] || die "registry binary not found in $BIN or PATH (run scripts/tools.sh registry)"
	fi
	mkdir -p "$dir/data"
	for attempt in 1 2 3 4 5; do
		port="$(free_port)"
		write_config "$dir" "$port"
		# No tracing exporter: otherwise it tries to reach an OTLP collector.
		OTEL_TRACES_EXPORTER=none "$reg" serve "$dir/config.yml" \
			</dev/null >>"$dir/registry.log" 2>&1 &
		pid=$!
		echo "$pid" >"$dir/pid"
		deadline=$((SECONDS + START_TIMEOUT))
		while ((SECONDS < deadline)); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			if probe "$port"; then
				echo "$port" >"$dir/port"
				echo "127.0.0.1:$port"
				return 0
			fi
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			# Alive but not answering within the timeout: give up.
			kill -KILL "$pid" 2>/dev/null || true
			rm -f "$dir/pid"
			tail -n 20 "$dir/registry.log" >&2 || true
			die "registry did not answer GET /v2/ on 127.0.0.1:$port within ${START_TIMEOUT}s (log: $dir/registry.log)"
		fi
		rm -f "$dir/pid"
		if grep -q "address already in use" "$dir/registry.log"; then
			log "port $port taken (attempt $attempt), retrying"
			continue
		fi
		tail -n 20 "$dir/registry.log" >&2 || true
		die "registry exited during start-up (log: $dir/registry.log)"
	done
	die "could not find a free port after 5 attempts (log: $dir/registry.log)"
}

cmd_stop() {
	local dir="$1" pid i
	[[ -d "$dir" ]] || return 0
	dir="$(cd "$dir" && pwd)"
	if ! running "$dir"; then
		rm -f "$dir/pid"
		return 0
	fi
	pid="$(cat "$dir/pid")"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "registry (pid $pid) ignored TERM for 10s; killing"
		kill -KILL "$pid" 2>/dev/null || true
		while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	fi
	rm -f "$dir/pid"
}

cmd_status() {
	local dir="$1"
	[[ -d "$dir" ]] || return 1
	dir="$(cd "$dir" && pwd)"
	running "$dir" || return 1
	echo "127.0.0.1:$(cat "$dir/port")"
}

if (($# != 2)); then
	usage
	exit 2
fi
case "$1" in
start) cmd_start "$2" ;;
stop) cmd_stop "$2" ;;
status) cmd_status "$2" ;;
*)
	usage
	exit 2
	;;
esac

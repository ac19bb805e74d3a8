#!/usr/bin/env bash
# scripts/containerd.sh — run a throw-away, private containerd for tests.
#
# Usage:
#   scripts/containerd.sh install        install Debian's containerd package if missing
#   scripts/containerd.sh start DIR      start containerd; print its socket address
#   scripts/containerd.sh stop DIR       unmount what is mounted under DIR, stop it, remove its data
#   scripts/containerd.sh status DIR     exit 0 iff the containerd in DIR runs (prints the socket)
#   scripts/containerd.sh run DIR CMD... start, run CMD with DIR/env exported, stop (always)
#
# Contract:
#   * containerd runs as root: as the caller when root, else through sudo
#     (sudo -n: never prompts). The package (Debian's `containerd`, which
#     brings runc) is installed with apt-get when `containerd` or `ctr` is
#     missing; `apt-get update` runs first only if the install fails.
#   * DIR is a caller-owned (temporary) directory, created if missing; keep its
#     path short (a unix socket path is at most 107 bytes). Everything the
#     daemon owns lives under it: DIR/root, DIR/state, DIR/opt, the sockets
#     DIR/containerd.sock (gRPC), DIR/containerd.sock.ttrpc, DIR/debug.sock,
#     its configuration DIR/config.toml, its output DIR/containerd.log, and
#     DIR/pid. Nothing is read from /etc/containerd or written to
#     /var/lib/containerd or /run/containerd, and no port is opened: the only
#     endpoints are those unix sockets (no CRI plugin, no metrics listener).
#   * Snapshotter: native only (overlayfs, btrfs, zfs, devmapper and aufs are
#     disabled), so it works on any file system, inside containers and VMs.
#   * start prints one stdout line, the socket address ("unix://DIR/containerd.sock"),
#     once `ctr version` answers (at most 30 s), and writes DIR/env:
#       CONTAINERD_ADDRESS=DIR/containerd.sock
#       CONTAINERD_NAMESPACE=oci-pack-test
#       CONTAINERD_SNAPSHOTTER=native
#     (ctr reads all three; export them, or use the wrapper), and DIR/ctr,
#     a wrapper that runs ctr with them (through sudo when not root):
#     `DIR/ctr image pull --plain-http REF`.
#     If DIR already has a running containerd, start just prints the address.
#   * stop unmounts every mount point below DIR (e.g. left by `ctr image mount`),
#     sends TERM to the recorded PID (KILL after 10 s), waits until it is gone,
#     and removes DIR/root, DIR/state, DIR/opt and the sockets (root-owned). It
#     stops only the PID it recorded, after checking that PID still runs
#     DIR/config.toml. Stopping a DIR with no running containerd is ok.
#   * Exit status: 0 ok; 1 failure; 75 containerd cannot run here (no root and
#     no sudo, no apt-get, install failed) and CI is not "true" — callers skip
#     their checks on 75. With CI=true every such case is exit 1.
#   * run: exit status of CMD (or of start when it fails); stop runs on any exit.
set -euo pipefail

START_TIMEOUT=30
NAMESPACE=oci-pack-test
EX_UNAVAILABLE=75

log() { printf 'containerd.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}
# unavailable MSG: containerd cannot run here; a failure under CI=true.
unavailable() {
	log "$*"
	if [[ "${CI:-}" == true ]]; then exit 1; fi
	exit "$EX_UNAVAILABLE"
}

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
}

# as_root CMD...: run CMD as root (sudo -n when we are not root).
as_root() {
	if ((EUID == 0)); then
		"$@"
	else
		sudo -n "$@"
	fi
}

root_ok() {
	((EUID == 0)) && return 0
	command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null
}

cmd_install() {
	if command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; then
		return 0
	fi
	root_ok || unavailable "containerd is not installed, and installing it needs root (or password-less sudo): apt-get install containerd"
	command -v apt-get >/dev/null 2>&1 || unavailable "containerd is not installed and apt-get is missing: install containerd (with runc) by hand"
	log "apt: installing containerd"
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd >&2; then
		log "apt-get install failed; running apt-get update and retrying"
		as_root apt-get update -qq >&2 || log "WARNING: apt-get update failed"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containerd >&2 ||
			unavailable "apt-get install containerd failed"
	fi
	command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1 ||
		unavailable "apt-get install containerd did not provide containerd and ctr"
}

# running DIR: the PID recorded in DIR is alive and serves DIR/config.toml.
running() {
	local pid
	[[ -f "$1/pid" ]] || return 1
	pid="$(cat "$1/pid")"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$1/config.toml"
}

write_config() { # DIR
	local d="$1"
	cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.overlayfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "$d/containerd.sock"
  uid = $(id -u)
  gid = $(id -g)

[ttrpc]
  address = "$d/containerd.sock.ttrpc"

[debug]
  address = "$d/debug.sock"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
}

write_env() { # DIR
	local d="$1" sudo=""
	((EUID == 0)) || sudo="sudo -n "
	cat >"$d/env" <<EOF
CONTAINERD_ADDRESS=$d/containerd.sock
CONTAINERD_NAMESPACE=$NAMESPACE
CONTAINERD_SNAPSHOTTER=native
EOF
	cat >"$d/ctr" <<EOF
#!/bin/sh
# ctr against the private containerd in $d
exec ${sudo}env CONTAINERD_SNAPSHOTTER=native ctr --address '$d/containerd.sock' --namespace '$NAMESPACE' "\$@"
EOF
	chmod 0755 "$d/ctr"
}

ctr_ok() { # DIR
	as_root ctr --address "$1/containerd.sock" --timeout 2s version >/dev/null 2>&1
}

cmd_start() {
	local dir="$1" pid deadline
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	if running "$dir"; then
		echo "unix://$dir/containerd.sock"
		return 0
	fi
	((${#dir} + 24 < 108)) || die "$dir is too long for a unix socket path (at most ~80 bytes): use a shorter directory"
	cmd_install
	root_ok || unavailable "containerd needs root: run as root or with password-less sudo"
	write_config "$dir"
	write_env "$dir"
	mkdir -p "$dir/root" "$dir/state" "$dir/opt"
	# setsid: the daemon is its own process group; the caller's Ctrl-C reaches it
	# only through stop.
	if ((EUID == 0)); then
		setsid containerd --config "$dir/config.toml" </dev/null >>"$dir/containerd.log" 2>&1 &
	else
		setsid sudo -n containerd --config "$dir/config.toml" </dev/null >>"$dir/containerd.log" 2>&1 &
	fi
	pid=$!
	echo "$pid" >"$dir/pid"
	deadline=$((SECONDS + START_TIMEOUT))
	while ((SECONDS < deadline)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			rm -f "$dir/pid"
			tail -n 20 "$dir/containerd.log" >&2 || true
			die "containerd exited during start-up (log: $dir/containerd.log)"
		fi
		if ctr_ok "$dir"; then
			log "containerd $(containerd --version | awk '{print $3}') at $dir/containerd.sock (pid $pid, log $dir/containerd.log)"
			echo "unix://$dir/containerd.sock"
			return 0
		fi
		sleep 0.2
	done
	tail -n 20 "$dir/containerd.log" >&2 || true
	cmd_stop "$dir"
	die "containerd did not answer on $dir/containerd.sock within ${START_TIMEOUT}s (log: $dir/containerd.log)"
}

# unmount_below DIR: unmount every mount point below DIR, deepest first.
unmount_below() {
	local dir="$1" m
	# /proc/self/mountinfo field 5 is the mount point (octal-escaped spaces).
	awk -v d="$dir/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while IFS= read -r m; do
			as_root umount "$m" 2>/dev/null || as_root umount -l "$m" 2>/dev/null ||
				log "WARNING: could not unmount $m"
		done
}

cmd_stop() {
	local dir="$1" pid i
	[[ -d "$dir" ]] || return 0
	dir="$(cd "$dir" && pwd)"
	unmount_below "$dir"
	if running "$dir"; then
		pid="$(cat "$dir/pid")"
		as_root kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			log "containerd (pid $pid) ignored TERM for 10s; killing"
			as_root kill -KILL "$pid" 2>/dev/null || true
			while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
		fi
	fi
	rm -f "$dir/pid"
	unmount_below "$dir"
	if [[ -d "$dir/root" || -d "$dir/state" || -d "$dir/opt" ]]; then
		as_root rm -rf "$dir/root" "$dir/state" "$dir/opt" "$dir/containerd.sock" "$dir/containerd.sock.ttrpc" "$dir/debug.sock" ||
			log "WARNING: could not remove $dir/root, $dir/state"
	fi
}

cmd_status() {
	local dir="$1"
	[[ -d "$dir" ]] || return 1
	dir="$(cd "$dir" && pwd)"
	running "$dir" || return 1
	echo "unix://$dir/containerd.sock"
}

cmd_run() {
	local dir="$1" rc=0
	shift
	mkdir -p "$dir"
	dir="$(cd "$dir" && pwd)"
	cmd_start "$dir" >/dev/null || return
	# shellcheck disable=SC2064 # expand dir now
	trap "cmd_stop '$dir'" EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	(
		set -a
		# shellcheck source=/dev/null
		. "$dir/env"
		set +a
		"$@"
	) || rc=$?
	return "$rc"
}

case "${1:-}" in
install)
	(($# == 1)) || {
		usage
		exit 2
	}
	cmd_install
	;;
start | stop | status)
	(($# == 2)) || {
		usage
		exit 2
	}
	"cmd_$1" "$2"
	;;
run)
	(($# >= 3)) || {
		usage
		exit 2
	}
	shift
	cmd_run "$@"
	;;
*)
	usage
	exit 2
	;;
esac

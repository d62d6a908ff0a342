#!/bin/sh
# Ingest benchmark: messages per second Apiary stores against the messages
# per second a Debian Mosquitto passes through, from the same paho clients,
# side by side on this machine (build/benchingest). Writes the result into
# the "## Ingest: Apiary vs Mosquitto" section of BENCHMARKS.md, keeping the
# other sections.
#
#   build/bench-ingest.sh                      # defaults below
#   N=50000 QOS1_N=16000 RUNS=1 build/bench-ingest.sh   # a quicker look
#   build/bench-ingest.sh -cpuprofile /tmp/cpu.pprof    # extra flags go to the program
#
# It takes a minute or more (several when a store is slow). Run it on an
# otherwise idle machine: the machine's load shows in both columns.
set -eu

cd "$(dirname "$0")/.."

N=${N:-200000}
QOS1_N=${QOS1_N:-40000}
RUNS=${RUNS:-3}
OUT=${OUT:-BENCHMARKS.md}

if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ] && [ ! -x /usr/local/sbin/mosquitto ]; then
	echo "bench-ingest: installing mosquitto from Debian" >&2
	SUDO=
	if [ "$(id -u)" -ne 0 ]; then
		SUDO=sudo
	fi
	$SUDO apt-get update
	$SUDO apt-get install -y mosquitto
fi

section=$(mktemp)
trap 'rm -f "$section" "$section.md"' EXIT INT TERM

if [ ! -f "$OUT" ]; then
	cat >"$OUT" <<'EOF'
# Benchmarks

Measurements of Apiary on real machines, each section with the machine,
the date and the command that produced it, so that it can be run again.
Numbers from different machines are not comparable; the ratios within a
section are.
EOF
fi

# run HEADING ARGS...: run the program and put its section, which starts
# with HEADING, into $OUT: in place of the section with that heading (up to
# the next heading of level 1 or 2, outside code fences), or at the end.
run() {
	heading=$1
	shift
	go run ./build/benchingest -via build/bench-ingest.sh -n "$N" -qos1-n "$QOS1_N" -runs "$RUNS" -o "$section" "$@"
	build/put-section.sh "$heading" "$section" "$OUT"
}

# The default configuration (sync = "always": a QoS 1 PUBACK after the fsync).
run "## Ingest: Apiary vs Mosquitto" "$@"
# QoS 1 with sync = "1s": acknowledged once in the OS (survives a crash of
# the process, not a power cut), to show what the fsync per PUBACK costs.
run "## Ingest: Apiary vs Mosquitto, sync = 1s" -sync 1s -only qos1 "$@"
echo "bench-ingest: updated $OUT" >&2

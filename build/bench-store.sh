#!/bin/sh
# Store benchmark: Apiary's store against InfluxDB 1.x on this machine
# (build/benchstore): bytes on disk per point, write throughput, a 1-year
# chart query, the appliance's RSS under live MQTT load with a dashboard
# served, and disk writes per stored point. Writes the result into the
# "## Store: Apiary vs InfluxDB" section of BENCHMARKS.md, keeping the
# other sections.
#
#   build/bench-store.sh                        # everything, ~40 minutes
#   build/bench-store.sh -short                 # a quick run of the same code (~4 minutes)
#   build/bench-store.sh -duration 3m -runs 1   # extra flags go to the program
#   OUT=/tmp/b.md build/bench-store.sh -short   # somewhere else than BENCHMARKS.md
#
# InfluxDB is Debian's influxdb package (1.6.x), installed here if missing;
# the benchmark runs influxd itself (temp config, data and WAL, free ports),
# never the system service. Run it on an otherwise idle machine: the
# machine's load shows in every figure.
set -eu

cd "$(dirname "$0")/.."

OUT=${OUT:-BENCHMARKS.md}
HEADING="## Store: Apiary vs InfluxDB"

if ! command -v influxd >/dev/null 2>&1 && [ ! -x /usr/bin/influxd ]; then
	echo "bench-store: installing influxdb from Debian" >&2
	SUDO=
	if [ "$(id -u)" -ne 0 ]; then
		SUDO=sudo
	fi
	$SUDO apt-get update
	# The package's service is not wanted: the benchmark runs its own influxd.
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y influxdb || {
		echo "bench-store: could not install influxdb: Apiary's figures only" >&2
	}
fi

section=$(mktemp)
trap 'rm -f "$section" "$section.md"' EXIT INT TERM

if [ ! -f "$OUT" ]; then
	cat >"$OUT" <<'EOT'
# Benchmarks

Measurements of Apiary on real machines, each section with the machine,
the date and the command that produced it, so that it can be run again.
Numbers from different machines are not comparable; the ratios within a
section are.
EOT
fi

go run ./build/benchstore -via build/bench-store.sh -o "$section" "$@" >/dev/null

build/put-section.sh "$HEADING" "$section" "$OUT"
echo "bench-store: updated $OUT" >&2

#!/bin/sh
# Soak: the real apiary binary under a mixed apiary's traffic for a while
# (build/soak): 50 emulated nodes of eleven kinds (Hiveeyes, BERadio,
# Terkin, Tasmota, ESPHome, Homie, Open Hive, GPRS, Telegraf, TTN) for 10
# minutes at 10x speed, then sent vs stored (exact, per kind), the error
# log, peak RSS, CPU and ingest rate. Exit status 1 when anything differs.
#
#   build/soak.sh                              # the defaults
#   build/soak.sh -duration 1m                 # a quick look
#   build/soak.sh -nodes 200 -speed 60 -o /tmp/soak.md
#
# Not part of `go test`: it takes as long as -duration, plus a build.
set -eu
cd "$(dirname "$0")/.."
exec go run ./build/soak -via build/soak.sh "$@"

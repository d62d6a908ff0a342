#!/usr/bin/env bash
# Runs every fuzz target of the module for a while (default 3 minutes
# each, FUZZTIME to change it), one after the other, and says which
# found something. The inputs that widened coverage are copied from Go's
# fuzz cache into testdata/fuzz/<Target>/ of their package, beside any
# crasher: commit them, and `go test ./...` replays the whole corpus.
# FUZZPARALLEL sets the workers (default: one per core).
#
#   build/fuzz.sh                 # every target, 3m each
#   FUZZTIME=30s build/fuzz.sh ./ingest/decode   # one package
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-3m}
pkgs=("$@")
((${#pkgs[@]})) || pkgs=(./...)
failed=()
cache=$(go env GOCACHE)/fuzz
while read -r pkg; do
	dir=${pkg#github.com/apiary-hive/apiary}
	dir=.${dir}
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz'); do
		echo "== $pkg $target ($fuzztime)"
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" ${FUZZPARALLEL:+-parallel "$FUZZPARALLEL"} "$pkg" 2>&1 | tail -4; then
			failed+=("$pkg $target")
		fi
		if [ -d "$cache/$pkg/$target" ]; then
			mkdir -p "$dir/testdata/fuzz/$target"
			cp -n "$cache/$pkg/$target"/* "$dir/testdata/fuzz/$target/" 2>/dev/null
		fi
	done
done < <(go list "${pkgs[@]}")
if ((${#failed[@]})); then
	echo "== found something:"; printf '   %s\n' "${failed[@]}"; exit 1
fi
echo "== every target ran $fuzztime without a finding"

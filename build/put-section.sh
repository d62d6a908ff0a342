#!/bin/sh
# put-section.sh HEADING SECTION FILE: put the Markdown section in the file
# SECTION, which starts with the line HEADING, into FILE in place of the
# section with that heading (up to the next heading of level 1 or 2,
# outside code fences), or at its end. The benchmark scripts use it to
# update BENCHMARKS.md one section at a time.
set -eu
heading=$1 section=$2 file=$3
awk -v secfile="$section" -v heading="$heading" '
	BEGIN {
		while ((getline line < secfile) > 0) sec = sec line "\n"
		close(secfile)
	}
	$0 == heading && !fence {
		printf "%s", sec
		skip = 1; done = 1
		next
	}
	/^```/ { fence = !fence }
	skip && !fence && /^##? / { skip = 0; print "" }
	!skip { print }
	END {
		if (!done) printf "\n%s", sec
	}
' "$file" >"$section.md"
cat "$section.md" >"$file" # keeps the mode of the file
rm -f "$section.md"

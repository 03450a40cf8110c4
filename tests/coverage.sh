#!/bin/bash
# Prints the line coverage of the pure-logic sources (conditions/ and
# taints/) per file and in total, from the gcov data of a build made with
# --coverage whose tests have run:
#
#   make BUILD=build-cov CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" test-unit
#   tests/coverage.sh build-cov [-v]
#
# With -v it also lists the line numbers that never ran. Needs gcov only.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [-v]" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
verbose=${2:-}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total_run=0
total_lines=0
printf '%-32s %8s %8s %8s\n' file lines run coverage
for src in "$root"/conditions/*.c "$root"/taints/*.c; do
	[ -e "$src" ] || continue
	rel=${src#"$root"/}
	obj_dir="$build/$(dirname "$rel")"
	base=$(basename "$src" .c)
	if [ ! -e "$obj_dir/$base.gcda" ]; then
		printf '%-32s %8s %8s %8s\n' "$rel" - - "not run"
		continue
	fi

	# gcov finds the source by the relative path it was compiled with, so
	# it runs from the top directory and prints the report (-t) instead of
	# writing .gcov files there. Only the section of the .c file counts,
	# not those of the headers it includes.
	report="$work/$base.gcov"
	(cd "$root" && gcov -t -o "$obj_dir" "$rel" 2>/dev/null) |
		awk -v src="$rel" '/^ *-: *0:Source:/ { keep = (substr($0, index($0, "Source:") + 7) == src) } keep' \
		>"$report"
	if [ ! -s "$report" ]; then
		echo "gcov printed no report for $rel" >&2
		exit 1
	fi

	# Columns of a report line: count, line number, source. "-" is not code,
	# "#####" and "=====" are lines that never ran.
	read -r run lines < <(awk -F: '{ gsub(/ /, "", $1) }
		$1 == "-" { next }
		$1 ~ /^(#####|=====)$/ { lines++; next }
		$1 ~ /^[0-9]+\*?$/ { lines++; run++ }
		END { print run + 0, lines + 0 }' "$report")
	total_run=$((total_run + run))
	total_lines=$((total_lines + lines))
	printf '%-32s %8d %8d %7s%%\n' "$rel" "$lines" "$run" \
		"$(awk -v r="$run" -v l="$lines" 'BEGIN { printf "%.1f", l ? 100 * r / l : 100 }')"

	if [ "$verbose" = "-v" ]; then
		awk -F: '{ c = $1; gsub(/ /, "", c) } c ~ /^(#####|=====)$/ { gsub(/ /, "", $2); printf "    not run: line %s:%s\n", $2, $3 }' "$report"
	fi
done

printf '%-32s %8d %8d %7s%%\n' total "$total_lines" "$total_run" \
	"$(awk -v r="$total_run" -v l="$total_lines" 'BEGIN { printf "%.1f", l ? 100 * r / l : 100 }')"

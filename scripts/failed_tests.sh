#!/usr/bin/env bash
# Prints the last lines each failed test of the latest ctest run in build
# directory $1 printed, after ctest's summary: the end of a long log (all a
# CI page may show) then says why each failed, not only which.
dir=${1:-build}
failed=$dir/Testing/Temporary/LastTestsFailed.log
log=$dir/Testing/Temporary/LastTest.log
[ -f "$failed" ] && [ -f "$log" ] || exit 0
cut -d: -f2- "$failed" | while read -r name; do
  echo "== the last lines $name printed"
  awk -v t="$name" -v keep=20 '
    /^[0-9]+\/[0-9]+ Testing: / && substr($0, index($0, "Testing: ") + 9) == t { inside = 1; n = 0; next }
    inside && !output { output = prev == "Output:" && /^-+$/; prev = $0; next }  # its header
    inside && /^<end of output>$/ { exit }
    inside {
      line = $0
      gsub(/[^[:print:]\t]/, "?", line)  # fuzzers print any bytes
      ring[n++ % keep] = substr(line, 1, 240)
    }
    END { for (i = (n > keep ? n - keep : 0); i < n; ++i) print "   " ring[i % keep] }
  ' "$log"
done

#!/usr/bin/env bash
# The Prometheus rules under promtool: `promtool check rules` on the rules file and `promtool test
# rules` on its unit tests (every alert firing and not firing, the recording rules' values).
#
#   bash tests/e2e/promtool_rules.sh
#
# Exit 0 when both pass, 1 when one fails, 77 (skipped) without promtool.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rules_dir=$(cd "$here/../../packaging/prometheus" && pwd)

if ! promtool=$(command -v promtool); then
  echo "promtool_rules: SKIP: no promtool (apt-get install --no-install-recommends prometheus)"
  exit 77
fi

cd "$rules_dir" || exit 1
status=0
"$promtool" check rules workload_exporter.rules.yml || status=1
"$promtool" test rules workload_exporter.rules.test.yml || status=1
if ((status == 0)); then
  echo "promtool_rules: PASS"
else
  echo "promtool_rules: FAIL"
fi
exit "$status"

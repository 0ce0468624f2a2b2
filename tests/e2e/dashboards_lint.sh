#!/usr/bin/env bash
# The Grafana dashboards, structurally (Grafana itself is not run: it is not in Debian's archive).
#
#   bash tests/e2e/dashboards_lint.sh
#
# For every packaging/grafana/dashboards/*.json: valid JSON, schemaVersion >= 36, a uid of its own;
# exactly one data source variable, `datasource`, of type prometheus, which is the type of the data
# source in provisioning/datasources.yml; every panel (rows' nested panels too) with an integer id
# unique in its dashboard and a gridPos inside the 24-column grid, top-level panels not overlapping;
# every panel but rows and text with datasource {type: prometheus, uid: ${datasource}} and at least
# one target, each target with the same datasource, a refId unique in its panel and a PromQL expr;
# query variables on ${datasource} with a label_values() query; every $variable an expression uses
# defined (or one of Grafana's $__rate_interval, $__interval, $__range); no expression that
# selects a scrape job by a literal name (only through the $job variable), because the job is
# whatever the user called it. The provisioning files name a file provider and a prometheus source.
#
# Exit 0 pass, 1 fail, 77 skipped (no jq).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
grafana=$(cd "$here/../../packaging/grafana" && pwd)
dashboards=("$grafana"/dashboards/*.json)

command -v jq >/dev/null || {
  echo "dashboards_lint: SKIP: no jq (apt-get install jq)"
  exit 77
}
problems=()
((${#dashboards[@]} == 3)) && [[ -f ${dashboards[0]} ]] ||
  problems+=("expected 3 dashboards under packaging/grafana/dashboards, found ${#dashboards[@]}")

# Provisioning: the data source the dashboards' variable asks for, and the dashboard provider.
datasources=$grafana/provisioning/datasources.yml
providers=$grafana/provisioning/dashboards.yml
ds_type=$(sed -n 's/^[[:space:]]*type:[[:space:]]*\([a-z_-]*\)[[:space:]]*$/\1/p' "$datasources" | head -n1)
[[ $ds_type == prometheus ]] || problems+=("$datasources: no data source of type prometheus (found '${ds_type}')")
grep -Eq '^[[:space:]]*type:[[:space:]]*file[[:space:]]*$' "$providers" ||
  problems+=("$providers: no provider of type file")
grep -Eq '^[[:space:]]*path:[[:space:]]*/' "$providers" || problems+=("$providers: no absolute options.path")

for f in "${dashboards[@]}"; do
  if ! out=$(jq -r --arg ds_type "$ds_type" '
    def panels: (.panels // [])[] | ., ((.panels // [])[]);
    def grid_ok: (.gridPos | type == "object")
      and ([.gridPos.h, .gridPos.w, .gridPos.x, .gridPos.y] | all(type == "number" and . == floor and . >= 0))
      and .gridPos.w >= 1 and .gridPos.h >= 1 and .gridPos.x + .gridPos.w <= 24;
    def ds_ok: (.datasource | type == "object") and .datasource.uid == "${datasource}" and .datasource.type == $ds_type;
    def overlap($a; $b): $a.x < $b.x + $b.w and $b.x < $a.x + $a.w and $a.y < $b.y + $b.h and $b.y < $a.y + $a.h;
    . as $d
    | ([.templating.list[]?.name] + ["__rate_interval", "__interval", "__range"]) as $names
    | [ (if ($d.schemaVersion | type) != "number" or $d.schemaVersion < 36 then "schemaVersion \($d.schemaVersion)" else empty end),
        (if ($d.uid | type) != "string" or $d.uid == "" then "no uid" else empty end),
        (if ([.templating.list[] | select(.type == "datasource")] | length) != 1
            or ([.templating.list[] | select(.type == "datasource" and .name == "datasource" and .query == $ds_type)] | length) != 1
         then "not exactly one data source variable `datasource` of type \($ds_type)" else empty end),
        ([panels | .id] | if any(type != "number") then "a panel without an integer id"
                          elif length != (unique | length) then "duplicate panel ids \(group_by(.) | map(select(length > 1)[0]))"
                          else empty end),
        ([.panels[]? | {t: .title, g: .gridPos}] as $top
         | range(0; $top | length) as $i | range($i + 1; $top | length) as $j
         | select(overlap($top[$i].g; $top[$j].g))
         | "panels \"\($top[$i].t)\" and \"\($top[$j].t)\" overlap"),
        (panels
         | .title as $t
         | (if grid_ok then empty else "panel \($t): gridPos \(.gridPos) is not in the 24-column grid" end),
           (select(.type != "row" and .type != "text")
            | (if ds_ok then empty else "panel \($t): datasource \(.datasource) is not {type: \($ds_type), uid: ${datasource}}" end),
              (if ([.targets[]?] | length) == 0 then "panel \($t): no targets" else empty end),
              (if ([.targets[]?.refId] | length) != ([.targets[]?.refId] | unique | length) then "panel \($t): duplicate refIds" else empty end),
              (.targets[]?
               | (if ds_ok then empty else "panel \($t) [\(.refId)]: datasource is not ${datasource}" end),
                 (if (.expr | type) != "string" or (.expr | test("^\\s*$")) then "panel \($t) [\(.refId)]: no expr" else empty end)))),
        (.templating.list[] | select(.type == "query")
         | (if .datasource.uid != "${datasource}" then "variable \(.name): datasource is not ${datasource}" else empty end),
           (if ((.query | if type == "object" then .query else . end) // "" | test("^label_values\\(.*\\)$")) | not
            then "variable \(.name): not a label_values() query" else empty end)),
        ([(panels | .targets[]?.expr // empty), (.templating.list[] | select(.type == "query") | .query | if type == "object" then .query else . end)]
         | .[]
         | (scan("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)") | .[0] | select(. as $n | $names | index($n) | not) | "undefined variable $\(.)"),
           (select(test("\\bjob\\s*(=~|=|!=|!~)\\s*\"(?!\\$job\")")) | "selects a scrape job by a literal name: \(.)"))
      ] | unique | .[] | "\($d.title): \(.)"' "$f" 2>&1); then
    problems+=("$f: not valid JSON: $out")
    continue
  fi
  [[ -z $out ]] || mapfile -t -O "${#problems[@]}" problems <<<"$out"
done
dup=$(jq -r '.uid' "${dashboards[@]}" 2>/dev/null | sort | uniq -d)
[[ -z $dup ]] || problems+=("duplicate dashboard uid: $dup")

if ((${#problems[@]})); then
  printf 'dashboards_lint: %s\n' "${problems[@]}"
  echo "dashboards_lint: FAIL"
  exit 1
fi
panels=$(jq -s '[.[] | .. | objects | select(has("gridPos"))] | length' "${dashboards[@]}")
echo "dashboards_lint: ${#dashboards[@]} dashboards, $panels panels: ids, grid, data sources, targets, variables and job selectors in order"
echo "dashboards_lint: PASS"

#!/usr/bin/env bash
# Lints what no compiler sees:
#   - every YAML file under packaging/ and .github/ parses (PyYAML, every document of a
#     multi-document file); a GitHub workflow also needs `on:` and jobs that each have
#     `runs-on` and `steps`; Kubernetes manifests each need apiVersion, kind and metadata.name;
#   - every shell script in the repository (*.sh, or a #!/bin/sh or bash first line) passes
#     ShellCheck at severity "warning"; its infos and style notes do not fail the test (run
#     ShellCheck by hand to see them).
# Files are those git tracks (what CI checks out); outside a git checkout, every file but build
# trees. Usage: lint_test.sh [SOURCE_DIR]. Exit 0 pass, 1 fail, 77 skip (no shellcheck or PyYAML).
set -uo pipefail

root=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
cd "$root" || exit 1
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3) || {
  echo "SKIP: no python3"
  exit 77
}
"$python" -c 'import yaml' 2>/dev/null || {
  echo "SKIP: no PyYAML (Debian: python3-yaml)"
  exit 77
}
command -v shellcheck >/dev/null || {
  echo "SKIP: no shellcheck (Debian: shellcheck)"
  exit 77
}

if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -t files < <(git -C "$root" ls-files)
else
  mapfile -t files < <(find . -path ./.git -prune -o -path './build*' -prune -o -type f -print | sed 's|^\./||')
fi

yaml=()
scripts=()
for f in "${files[@]}"; do
  [[ -f $f ]] || continue
  case $f in
  packaging/*.yml | packaging/*.yaml | .github/*.yml | .github/*.yaml) yaml+=("$f") ;;
  esac
  if [[ $f == *.sh ]] || head -n1 "$f" 2>/dev/null | grep -qE '^#!(/usr)?/bin/(env )?(ba|da)?sh( |$)'; then
    scripts+=("$f")
  fi
done

failures=0
echo "== YAML: ${#yaml[@]} files"
if ((${#yaml[@]})); then
  "$python" - "${yaml[@]}" <<'EOF' || failures=$((failures + 1))
import sys
import yaml

bad = 0
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        print(f"FAIL {path}: {e}")
        bad += 1
        continue
    problems = []
    if not docs:
        problems.append("no document")
    if path.startswith(".github/workflows/"):
        wf = docs[0] if docs else {}
        # YAML 1.1 reads the key `on` as the boolean true.
        if "on" not in wf and True not in wf:
            problems.append("no `on:` trigger")
        jobs = wf.get("jobs") or {}
        if not jobs:
            problems.append("no jobs")
        for name, job in jobs.items():
            if "runs-on" not in job or not job.get("steps"):
                problems.append(f"job {name}: needs runs-on and steps")
    if path.startswith("packaging/kubernetes/"):
        for i, d in enumerate(docs):
            if not all(k in d for k in ("apiVersion", "kind")) or not d.get("metadata", {}).get("name"):
                problems.append(f"document {i}: needs apiVersion, kind and metadata.name")
    for p in problems:
        print(f"FAIL {path}: {p}")
    bad += bool(problems)
    if not problems:
        print(f"ok   {path} ({len(docs)} document{'s' if len(docs) != 1 else ''})")
sys.exit(1 if bad else 0)
EOF
fi

echo "== shellcheck $(shellcheck --version | sed -n 's/^version: //p'): ${#scripts[@]} scripts"
for s in "${scripts[@]}"; do
  if out=$(shellcheck --severity=warning --external-sources "$s" 2>&1); then
    echo "ok   $s"
  else
    echo "FAIL $s"
    echo "$out"
    failures=$((failures + 1))
  fi
done

if ((failures)); then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS"

#!/usr/bin/env bash
# Every C++ file git tracks is formatted as .clang-format says (clang-format 14, Debian 12's):
# `clang-format --dry-run --Werror` prints each difference and fails. To fix a tree:
#
#   git ls-files '*.h' '*.cc' | xargs clang-format-14 -i
#
# Usage: format_test.sh [SOURCE_DIR]. Exit 0 pass, 1 fail, 77 skip (no clang-format-14 or git).
set -uo pipefail

root=$(cd "${1:-$(dirname "$0")/..}" && pwd)
cd "$root" || exit 1
format=$(command -v clang-format-14) || {
  echo "SKIP: no clang-format-14 (Debian: clang-format-14)"
  exit 77
}
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || {
  echo "SKIP: not a git checkout"
  exit 77
}
mapfile -t files < <(git ls-files '*.h' '*.cc')
echo "== clang-format: ${#files[@]} files"
if ! "$format" --dry-run --Werror "${files[@]}"; then
  echo "FAIL: not formatted as .clang-format says; run: git ls-files '*.h' '*.cc' | xargs clang-format-14 -i"
  exit 1
fi
echo "PASS"

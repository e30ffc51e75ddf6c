#!/usr/bin/env bash
# `npm run test:unit-future [-- OFFSET] [vitest arguments]`: the suites that need no peers, no root
# and no network namespaces (test/src, test/cli, test/services: loopback only), run under Debian's
# faketime, a year ahead unless OFFSET ('+3650 days', '-30 days') says otherwise. A test that mixes a
# fixed date with the real clock fails here now instead of on the day that date passes.
# Left out: test/cli/pxe.test.ts and serve-ports.test.ts build namespaces as root. Two services suites
# have one root-only case each (a reserved port, a device node), skipped when not root like in npm test.
set -euo pipefail
cd "$(dirname "$0")/.."
offset='+365 days'
if [[ $# -gt 0 && $1 =~ ^[+-][0-9] ]]; then
  offset=$1
  shift
fi
if ! command -v faketime >/dev/null; then
  echo "test:unit-future: faketime is missing: install it with npm run peers (as root)" >&2
  exit 1
fi
# Node runs threads of its own, hence libfaketime's multi-threaded build (-m). Check that the clock
# really moved: a preload that failed would let the run pass at today's date and prove nothing.
expected=$(date -d "$offset" +%s)
seen=$(faketime -m "$offset" node -e 'console.log(Math.floor(Date.now() / 1000))')
if ((seen - expected > 60 || expected - seen > 60)); then
  echo "test:unit-future: faketime '$offset' did not move node's clock (node saw $(date -d "@$seen"))" >&2
  exit 1
fi
echo "test:unit-future: the clock reads $(faketime -m "$offset" date -u '+%F %T UTC') ($offset)"
exec faketime -m "$offset" npx vitest run test/src test/cli test/services \
  --exclude test/cli/pxe.test.ts --exclude test/cli/serve-ports.test.ts "$@"

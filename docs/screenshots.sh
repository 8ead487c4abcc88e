#!/usr/bin/env bash
# Regenerates the README's screenshots of the sample report: its first
# screen on a laptop (1280 × 900) and on a phone (390 × 800), taken by
# headless Chromium with the network blocked.
#   bash docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BROWSER="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$BROWSER" ] || { echo "Chromium is required (Debian: apt-get install chromium)" >&2; exit 1; }
cargo run --release --quiet -- -q run pipelines/education_impact.yaml
REPORT="$PWD/out/education_impact/as_of=2026-11-01/report.html"
PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
for size in 1280,900 390,800; do
  out="docs/report-${size%,*}.png"
  "$BROWSER" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir="$PROFILE" \
    --window-size="$size" --screenshot="$out" "file://$REPORT" 2>/dev/null
  echo "wrote $out"
done

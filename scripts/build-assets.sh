#!/usr/bin/env bash
# Build the web app's front-end assets from the pinned npm packages (package-lock.json).
#
#   scripts/build-assets.sh           build if out of date (no-op when up to date)
#   scripts/build-assets.sh --force   rebuild even if the stamp matches
#   scripts/build-assets.sh --check   exit 1 if the assets are missing or out of date
#
# Runs `npm ci` and copies the compiled files of govuk-frontend, @ministryofjustice/frontend and
# axe-core (used by the browser tests) into src/joinedup/web/static/vendor/ (gitignored):
#
#   vendor/govuk/  govuk-frontend.min.{css,js} + assets/{images,manifest.json}
#   vendor/moj/    moj-frontend.min.{css,js}   + assets/images
#   vendor/axe/    axe.min.js
#   vendor/vega/   vega, vega-lite and vega-embed builds + vega-interpreter bundled by esbuild
#                  (an IIFE exposing `vegaInterpreter`, so charts render under our CSP with no
#                  'unsafe-eval'; see static/js/charts.js)
#
# The precompiled CSS refers to url(/assets/...); we rewrite that to url(assets/...), relative to
# the CSS file, so the files work wherever the static folder is mounted. A hub is not on GOV.UK,
# so it must not use the GDS Transport font: the Design System's advice for such services is
# Helvetica or Arial. We set that font stack in both stylesheets, drop the font's @font-face
# rules and do not copy its files (docs/adr/0029-the-hubs-own-brand.md). The build is skipped
# when vendor/.stamp matches the hash of package-lock.json and of this script. The new folder
# is assembled in node_modules and swapped in, so a failed build never leaves a half-copy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/src/joinedup/web/static/vendor"
STAMP_FILE="$VENDOR/.stamp"
MODE="build"

case "${1:-}" in
    "") ;;
    --force) MODE="force" ;;
    --check) MODE="check" ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-assets: unknown option $1 (use --force, --check or --help)" >&2; exit 2 ;;
esac

cd "$ROOT"
stamp="$(cat package-lock.json "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"

if [ "$MODE" != "force" ] && [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$stamp" ]; then
    [ "$MODE" = "check" ] || echo "build-assets: up to date ($VENDOR)"
    exit 0
fi
if [ "$MODE" = "check" ]; then
    echo "build-assets: assets are missing or out of date; run scripts/build-assets.sh" >&2
    exit 1
fi

command -v npm >/dev/null 2>&1 || {
    echo "build-assets: npm is required (install Node.js 18 or later)" >&2
    exit 1
}

npm ci --no-audit --no-fund --loglevel=error >/dev/null

NM="$ROOT/node_modules"
GOVUK="$NM/govuk-frontend/dist/govuk"
MOJ="$NM/@ministryofjustice/frontend/moj"
AXE="$NM/axe-core"

# Assemble in node_modules (gitignored, same filesystem), then swap into place.
mkdir -p "$(dirname "$VENDOR")"
BUILD="$(mktemp -d "$NM/.vendor-build.XXXXXX")"
trap 'rm -rf "$BUILD"' EXIT

mkdir -p "$BUILD/govuk/assets" "$BUILD/moj/assets" "$BUILD/axe" "$BUILD/vega"

cp "$GOVUK"/govuk-frontend.min.css "$GOVUK"/govuk-frontend.min.css.map \
   "$GOVUK"/govuk-frontend.min.js "$GOVUK"/govuk-frontend.min.js.map "$BUILD/govuk/"
cp -R "$GOVUK"/assets/images "$GOVUK"/assets/manifest.json "$BUILD/govuk/assets/"

cp "$MOJ"/moj-frontend.min.css "$MOJ"/moj-frontend.min.css.map \
   "$MOJ"/moj-frontend.min.js "$MOJ"/moj-frontend.min.js.map "$BUILD/moj/"
cp -R "$MOJ"/assets/images "$BUILD/moj/assets/"

cp "$AXE"/axe.min.js "$AXE"/LICENSE "$BUILD/axe/"

cp "$NM"/vega/build/vega.min.js "$NM"/vega-lite/build/vega-lite.min.js \
   "$NM"/vega-embed/build/vega-embed.min.js "$BUILD/vega/"
cp "$NM"/vega/LICENSE "$BUILD/vega/LICENSE"
"$NM"/.bin/esbuild "$NM"/vega-interpreter/build/vega-interpreter.js --bundle --minify \
   --format=iife --global-name=vegaInterpreter --log-level=warning \
   --outfile="$BUILD/vega/vega-interpreter.min.js"

for css in "$BUILD/govuk/govuk-frontend.min.css" "$BUILD/moj/moj-frontend.min.css"; do
    sed -i 's#url(/assets/#url(assets/#g' "$css"
    sed -i -E -e 's#/\*![^*]*exclusive use on gov\.uk[^*]*\*/##g' \
        -e 's#@font-face\{font-family:"?GDS Transport"?;[^}]*\}##g' \
        -e 's#"?GDS Transport"?,arial,sans-serif#helvetica,arial,sans-serif#g' "$css"
    if grep -q 'GDS Transport' "$css"; then
        echo "build-assets: $css still names the GDS Transport font" >&2
        exit 1
    fi
    if grep -q 'url(/' "$css"; then
        echo "build-assets: $css still has absolute url(/...) references" >&2
        exit 1
    fi
done

printf '%s\n' "$stamp" >"$BUILD/.stamp"
chmod -R a+rX "$BUILD"

OLD="$NM/.vendor-old.$$"
[ -d "$VENDOR" ] && mv "$VENDOR" "$OLD"
mv "$BUILD" "$VENDOR"
rm -rf "$OLD"
trap - EXIT

echo "build-assets: built $VENDOR (govuk-frontend $(node -p "require('$NM/govuk-frontend/package.json').version"), @ministryofjustice/frontend $(node -p "require('$MOJ/../package.json').version"), axe-core $(node -p "require('$AXE/package.json').version"), vega $(node -p "require('$NM/vega/package.json').version"), vega-lite $(node -p "require('$NM/vega-lite/package.json').version"))"

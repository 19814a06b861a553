#!/usr/bin/env sh
# Writes the service worker into a built site folder (Trunk runs it after each build, Trunk.toml):
# web/sw.js with the list of the page's own files (everything but model/ and the worker itself; the
# WebGPU build in gpu/ listed apart, as only some visitors fetch it) and a hash of their contents as the
# build's name.
#   tools/stage_service_worker.sh SITE_DIR
set -eu
site=$1
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$site"
files=$(find . -type f ! -path './model/*' ! -path './gpu/*' ! -name sw.js | sed 's|^\./||' | LC_ALL=C sort)
optional=$(find . -type f -path './gpu/*' | sed 's|^\./||' | LC_ALL=C sort)
build=$(cat $files $optional | sha256sum | cut -c1-16)
list=$(printf '"./"'; for f in $files; do printf ', "%s"' "$f"; done)
optional_list=$(first=1; for f in $optional; do [ $first = 1 ] || printf ', '; printf '"%s"' "$f"; first=0; done)
sed -e "s|__BUILD__|$build|" -e "s|__FILES__|[$list]|" -e "s|__OPTIONAL__|[$optional_list]|" "$root/web/sw.js" > sw.js

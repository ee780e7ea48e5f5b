#!/bin/sh
# node_modules for the checkout in the working directory, as the verify jobs need it: the pifleet
# image's own (cp -a: npm's workspace links are relative, so they point into this checkout) when
# package-lock.json is the image's, else a fresh `npm ci`. A checkout that has node_modules keeps it.
set -eu

image_home="${PIFLEET_HOME:-/opt/pifleet}"

if [ -d node_modules ]; then
  echo "node_modules: kept (already in the checkout)"
elif [ -f "$image_home/package-lock.json" ] && cmp -s package-lock.json "$image_home/package-lock.json"; then
  cp -a "$image_home/node_modules" node_modules
  # Workspaces may hold their own node_modules (a version that differs from the root's).
  (cd "$image_home" && find . -path ./node_modules -prune -o -type d -name node_modules -prune -print) |
    while IFS= read -r dir; do
      mkdir -p "$(dirname "$dir")"
      cp -a "$image_home/$dir" "$dir"
    done
  echo "node_modules: the pifleet image's (package-lock.json unchanged)"
else
  echo "node_modules: npm ci (package-lock.json differs from the pifleet image's)"
  npm ci --no-audit --no-fund
fi

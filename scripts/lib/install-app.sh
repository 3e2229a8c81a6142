# install.sh's application step (sourced after common.sh): build a new release next to the
# running one and switch to it with one atomic rename.
#
# Layout:  /opt/rpi-tb-gateway/releases/<id>/   one complete, built application each
#          /opt/rpi-tb-gateway/current -> releases/<id>   what the units run
# The new release is prepared completely (copy, npm, builds, native-module check) while the
# running one stays untouched, then `current` is switched by rename(2) of a new symlink over the
# old one: at every instant `current` names one whole release. The previous release is kept (one
# step back by hand: ln -sfn releases/<old> current.new && mv -T current.new current).

# Files that must not be copied into /opt: VCS, local dependencies (rebuilt for this Node),
# local runtime data, test output and local builds (rebuilt in the staging directory).
COPY_EXCLUDES=(./.git ./node_modules ./data ./test ./test-artifacts ./bench-results ./web/dist ./dist ./run ./.ci)

copy_tree() { # copy_tree SRC DEST
  local ex=() e
  for e in "${COPY_EXCLUDES[@]}"; do ex+=("--exclude=$e"); done
  # --no-same-owner: as root, tar would otherwise keep the checkout owner's uid (1000) on every file.
  tar -C "$1" "${ex[@]}" --exclude='*.log' -cf - . | tar -C "$2" --no-same-owner -xf -
}

lock_hash() {
  if [ -f "$1/package-lock.json" ]; then sha256sum "$1/package-lock.json" | cut -d' ' -f1; else echo none; fi
}

state_get() { # state_get FILE KEY
  [ -f "$1" ] && sed -n "s/^$2=//p" "$1" | head -n1 || true
}

# The release the service runs now: `current`, or an install from before releases existed
# (everything directly in /opt/rpi-tb-gateway).
live_release() { # live_release APP
  if [ -L "$1/current" ] && [ -d "$1/current/" ]; then printf '%s' "$1/current"
  elif [ -f "$1/.install-state" ]; then printf '%s' "$1"
  fi
}

abandon() { # abandon STAGE MESSAGE: a failed upgrade leaves the running version alone
  rm -rf "$1"
  die "$2; the installed version is unchanged"
}

install_app() {
  local app releases id stage live state lock prev_lock prev_abi deps
  app="$(p "$APP_DIR")"
  releases="$app/releases"
  id="$(date -u +%Y%m%dT%H%M%SZ)"
  stage="$releases/$id"
  live="$(live_release "$app")"
  state="${live:+$live/.install-state}"
  lock="$(lock_hash "$SOURCE_DIR")"
  prev_lock="$(state_get "$state" lock)"
  prev_abi="$(state_get "$state" abi)"
  if [ -n "$live" ] && [ -d "$live/node_modules" ] && [ "$prev_lock" = "$lock" ] && [ "$prev_abi" = "$NODE_ABI" ]; then deps=keep
  elif [ -n "$live" ] && [ -d "$live/node_modules" ] && [ "$prev_lock" = "$lock" ]; then deps=rebuild
  else deps=ci; fi

  if [ "$DRY_RUN" = 1 ]; then
    echo "[dry-run] copy $SOURCE_DIR to $releases/<new> (without ${COPY_EXCLUDES[*]})"
    case "$deps" in
      keep) echo "[dry-run] copy node_modules from $live (same package-lock and Node ABI)" ;;
      rebuild) echo "[dry-run] copy node_modules from $live, npm rebuild (Node ABI changed from $prev_abi to $NODE_ABI)" ;;
      ci) echo "[dry-run] npm ci --omit=dev" ;;
    esac
    echo "[dry-run] node scripts/build-web.mjs; node scripts/build-server.mjs; node scripts/check-native.mjs; chown -R root:root; switch $app/current to it"
    return 0
  fi

  mkdir -p "$releases"
  while [ -e "$stage" ]; do id="$id-$RANDOM"; stage="$releases/$id"; done
  mkdir "$stage"
  log "Preparing release $id in $stage"
  copy_tree "$SOURCE_DIR" "$stage"
  if [ "$deps" != ci ]; then
    # A copy, not hard links: prebuild-install's extractor and node-gyp write into existing files,
    # which through a hard link would rewrite the running release's native binaries (issue 18).
    cp -a "$live/node_modules" "$stage/node_modules"
  fi
  # npm's cache: inside DIR under --root, which touches nothing outside DIR.
  local npm_env=()
  [ "$ROOT" != "/" ] && npm_env=(env "npm_config_cache=$stage/.npm-cache")
  case "$deps" in
    keep) log "Dependencies unchanged (same package-lock.json and Node ABI): copied node_modules" ;;
    rebuild) log "Node ABI changed ($prev_abi -> $NODE_ABI): rebuilding native modules"
      (cd "$stage" && run "${npm_env[@]}" npm rebuild) || abandon "$stage" "npm rebuild failed" ;;
    ci) log "Installing dependencies (npm ci --omit=dev; compiling native modules can take minutes on a Pi)"
      (cd "$stage" && run "${npm_env[@]}" npm ci --omit=dev --no-audit --no-fund) || abandon "$stage" "npm ci failed" ;;
  esac
  rm -rf "$stage/.npm-cache"
  # The service runs the bundles, so they are built here (package.json "start" does it in
  # development). esbuild is a regular dependency: both builds work after npm ci --omit=dev.
  if [ -f "$stage/scripts/build-web.mjs" ]; then
    (cd "$stage" && run node scripts/build-web.mjs) || abandon "$stage" "building the dashboard failed"
  fi
  # The unit's ExecStart (dist/rpi-tb-gateway.mjs): without it the service cannot start at all.
  (cd "$stage" && run node scripts/build-server.mjs) || abandon "$stage" "building the server bundle failed"
  [ -f "$stage/dist/rpi-tb-gateway.mjs" ] || abandon "$stage" "the server bundle $stage/dist/rpi-tb-gateway.mjs is missing after the build"
  # Every native module must load with this node before the switch: a binary for another ABI or
  # CPU, or a half-written one, would otherwise only show when the service starts.
  (cd "$stage" && run node scripts/check-native.mjs) || abandon "$stage" "a native module does not load (above)"
  printf 'lock=%s\nabi=%s\nnode=%s\ninstalled=%s\n' "$lock" "$NODE_ABI" "$NODE_VERSION" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$stage/.install-state"
  # Everything under /opt belongs to root, including the first-boot script that runs as root.
  chmod -R go-w "$stage"
  run chown -R root:root "$stage" || abandon "$stage" "chown root:root failed"
  switch_current "$app" "releases/$id"
  [ "$live" = "$app" ] && remove_legacy_layout "$app"
  # Kept: the new release and the one it replaced; anything else is older or a leftover of an
  # interrupted run.
  prune_releases "$app" "releases/$id" "${PREVIOUS_TARGET:-}"
  log "Application installed: $app/current -> releases/$id"
}

current_target() { [ -L "$1/current" ] && readlink "$1/current" || true; }

# One rename(2) of a new symlink over `current`: atomic, unlike removing and re-creating it.
switch_current() { # switch_current APP TARGET
  PREVIOUS_TARGET="$(current_target "$1")"
  ln -sfn "$2" "$1/current.new"
  mv -T "$1/current.new" "$1/current"
}

prune_releases() { # prune_releases APP KEEP KEEP2
  local r name
  for r in "$1"/releases/*; do
    [ -e "$r" ] || continue
    name="releases/$(basename "$r")"
    [ "$name" = "$2" ] || [ "$name" = "$3" ] || rm -rf "$r"
  done
}

# Before releases existed the application sat directly in /opt/rpi-tb-gateway: once `current`
# points at the new release, those files go (a running old process keeps its open files).
remove_legacy_layout() { # remove_legacy_layout APP
  local e
  for e in "$1"/* "$1"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    case "$(basename "$e")" in releases | current) ;; *) rm -rf "$e" ;; esac
  done
  rm -rf "$1.staging" "$1.old"
  log "Moved from the old layout (files directly in $1) to $1/current"
}

# The steps of install.sh, one function each (sourced after common.sh).

# ---------------------------------------------------------------- Node.js
version_ge() { # version_ge 20.19.1 20.19.0 -> true
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

node_help() {
  cat >&2 <<EOF

rpi-tb-gateway needs Node.js >= $NODE_MIN (package.json "engines"). Install it, then re-run this script:
  - Raspberry Pi OS Trixie (Debian 13) and later:   sudo apt install nodejs npm
    (Bookworm's own nodejs package is 18.x: too old.)
  - Bookworm, 64-bit or 32-bit ARMv7 (Pi 2/3/4/5, Zero 2 W), from NodeSource:
      curl -fsSL https://deb.nodesource.com/setup_22.x -o nodesource_setup.sh
      sudo bash nodesource_setup.sh && sudo apt-get install -y nodejs
  - ARMv6 (Pi 1, Zero, Zero W) has no official builds: use the unofficial-builds.nodejs.org tarballs.
Install Node system-wide (/usr/bin/node): a per-user install (nvm) is not reachable by the service.
EOF
}

check_node() {
  if ! have node; then
    node_help
    die "node not found"
  fi
  NODE_BIN="$(command -v node)"
  NODE_VERSION="$(query node -v 2>/dev/null || true)"
  NODE_VERSION="${NODE_VERSION#v}"
  if [ -z "$NODE_VERSION" ] || ! version_ge "$NODE_VERSION" "$NODE_MIN"; then
    node_help
    die "node ${NODE_VERSION:-(unknown version)} at $NODE_BIN is older than $NODE_MIN"
  fi
  # The ABI number changes with every Node major: native addons (better-sqlite3, i2c-bus, epoll)
  # built for another one fail with NODE_MODULE_VERSION errors (fivdi/onoff#124).
  NODE_ABI="$(query node -p 'process.versions.modules + "-" + process.arch' 2>/dev/null || echo unknown)"
  case "$NODE_BIN" in
    /home/* | /root/*) warn "node is at $NODE_BIN, inside a home directory: the service runs with ProtectHome=yes and cannot use it. Install Node system-wide." ;;
  esac
  log "Node.js $NODE_VERSION ($NODE_BIN, ABI $NODE_ABI)"
}

# ---------------------------------------------------------------- apt build tools
# better-sqlite3, i2c-bus and epoll (onoff) are native addons; when no prebuilt binary matches
# (32-bit ARM, new Node majors) npm compiles them and needs a compiler and python3.
BUILD_DEPS=(build-essential python3)

pkg_installed() {
  [ "$(query dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = "installed" ]
}

install_build_deps() {
  if [ "$SKIP_APT" = 1 ]; then
    log "Skipping apt (--skip-apt)"
    return 0
  fi
  if ! have dpkg-query; then
    warn "dpkg-query not found (not Debian?): make sure ${BUILD_DEPS[*]} are installed"
    return 0
  fi
  local missing=() pkg
  for pkg in "${BUILD_DEPS[@]}"; do pkg_installed "$pkg" || missing+=("$pkg"); done
  if [ ${#missing[@]} -eq 0 ]; then
    log "Build tools present (${BUILD_DEPS[*]})"
    return 0
  fi
  log "Installing build tools: ${missing[*]}"
  run env DEBIAN_FRONTEND=noninteractive apt-get update -q
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# ---------------------------------------------------------------- I2C
boot_config() {
  # Bookworm moved the firmware partition to /boot/firmware; Bullseye and older use /boot.
  if [ -f "$(p /boot/firmware/config.txt)" ]; then p /boot/firmware/config.txt
  elif [ -f "$(p /boot/config.txt)" ]; then p /boot/config.txt
  fi
}

enable_i2c() {
  if have raspi-config; then
    log "Enabling I2C with raspi-config (0 means enable in raspi-config's nonint mode)"
    run raspi-config nonint do_i2c 0
    I2C_CHANGED=1
    return 0
  fi
  local cfg
  cfg="$(boot_config)"
  if [ -z "$cfg" ]; then
    warn "no raspi-config and no config.txt under /boot/firmware or /boot: enable I2C by hand"
    return 0
  fi
  if grep -Eq '^[[:space:]]*dtparam=i2c_arm=on([[:space:]]|$)' "$cfg"; then
    log "I2C already enabled in $cfg"
  else
    log "Adding dtparam=i2c_arm=on to $cfg (takes effect after a reboot)"
    I2C_CHANGED=1
    # Under an [all] filter: appended after a [pi4] or [cm4] section it would apply to that model only.
    if [ "$DRY_RUN" = 1 ]; then echo "[dry-run] append '[all]' + 'dtparam=i2c_arm=on' to $cfg"
    else printf '\n# Added by rpi-tb-gateway install.sh\n[all]\ndtparam=i2c_arm=on\n' >>"$cfg"; fi
  fi
  # The /dev/i2c-N nodes come from the i2c-dev module, which raspi-config also loads at boot.
  local mod
  mod="$(p /etc/modules-load.d/rpi-tb-gateway-i2c.conf)"
  if [ ! -f "$mod" ]; then
    if [ "$DRY_RUN" = 1 ]; then echo "[dry-run] write i2c-dev to $mod"
    else mkdir -p "$(dirname "$mod")" && printf 'i2c-dev\n' >"$mod"; fi
  fi
}

# ---------------------------------------------------------------- service account
ensure_user() {
  local pfx=() g
  mapfile -t pfx < <(prefix_opt)
  # Raspberry Pi OS ships both groups (udev gives them /dev/i2c-* and /sys/class/gpio); other
  # Debian images may not.
  for g in gpio i2c; do
    group_exists "$g" || run groupadd "${pfx[@]}" --system "$g"
  done
  if user_exists "$APP_USER"; then
    log "User $APP_USER exists"
  else
    run useradd "${pfx[@]}" --system --user-group --no-create-home --home-dir "$DATA_DIR" --shell /usr/sbin/nologin "$APP_USER"
  fi
  run usermod "${pfx[@]}" --append --groups gpio,i2c "$APP_USER"
}

# ---------------------------------------------------------------- application
# Files that must not be copied into /opt: VCS, local dependencies (rebuilt for this Node),
# local runtime data, test output and local builds (rebuilt in the staging directory).
COPY_EXCLUDES=(./.git ./node_modules ./data ./test ./test-artifacts ./bench-results ./web/dist ./dist ./run ./.ci)

copy_tree() { # copy_tree SRC DEST
  local ex=() e
  for e in "${COPY_EXCLUDES[@]}"; do ex+=("--exclude=$e"); done
  tar -C "$1" "${ex[@]}" --exclude='*.log' -cf - . | tar -C "$2" -xf -
}

lock_hash() {
  if [ -f "$1/package-lock.json" ]; then sha256sum "$1/package-lock.json" | cut -d' ' -f1; else echo none; fi
}

state_get() { # state_get FILE KEY
  [ -f "$1" ] && sed -n "s/^$2=//p" "$1" | head -n1 || true
}

install_app() {
  local app stage old state lock prev_lock prev_abi deps
  app="$(p "$APP_DIR")"
  stage="$app.staging"
  old="$app.old"
  state="$app/.install-state"
  lock="$(lock_hash "$SOURCE_DIR")"
  prev_lock="$(state_get "$state" lock)"
  prev_abi="$(state_get "$state" abi)"
  if [ -d "$app/node_modules" ] && [ "$prev_lock" = "$lock" ] && [ "$prev_abi" = "$NODE_ABI" ]; then deps=keep
  elif [ -d "$app/node_modules" ] && [ "$prev_lock" = "$lock" ]; then deps=rebuild
  else deps=ci; fi

  if [ "$DRY_RUN" = 1 ]; then
    echo "[dry-run] copy $SOURCE_DIR to $stage (without ${COPY_EXCLUDES[*]})"
    case "$deps" in
      keep) echo "[dry-run] keep node_modules (same package-lock and Node ABI)" ;;
      rebuild) echo "[dry-run] npm rebuild (Node ABI changed from $prev_abi to $NODE_ABI)" ;;
      ci) echo "[dry-run] npm ci --omit=dev" ;;
    esac
    echo "[dry-run] node scripts/build-web.mjs; node scripts/build-server.mjs; swap $stage into $app"
    return 0
  fi

  # Everything is prepared in a staging directory and swapped in at the end, so a failed
  # upgrade (no network for npm, a compile error) leaves the running install untouched.
  rm -rf "$stage"
  mkdir -p "$stage"
  log "Copying the application to $stage"
  copy_tree "$SOURCE_DIR" "$stage"
  if [ "$deps" != ci ]; then
    # Hard links: instant and no extra SD-card space; npm replaces files rather than editing them.
    cp -al "$app/node_modules" "$stage/node_modules"
  fi
  case "$deps" in
    keep) log "Dependencies unchanged (same package-lock.json and Node ABI): keeping node_modules" ;;
    rebuild) log "Node ABI changed ($prev_abi -> $NODE_ABI): rebuilding native modules"
      (cd "$stage" && run npm rebuild) || { rm -rf "$stage"; die "npm rebuild failed; the installed version is unchanged"; } ;;
    ci) log "Installing dependencies (npm ci --omit=dev; compiling native modules can take minutes on a Pi)"
      (cd "$stage" && run npm ci --omit=dev --no-audit --no-fund) || { rm -rf "$stage"; die "npm ci failed; the installed version is unchanged"; } ;;
  esac
  # The service runs the bundles, so they are built here (package.json "start" does it in
  # development). esbuild is a regular dependency: both builds work after npm ci --omit=dev.
  if [ -f "$stage/scripts/build-web.mjs" ]; then
    (cd "$stage" && run node scripts/build-web.mjs) || { rm -rf "$stage"; die "building the dashboard failed; the installed version is unchanged"; }
  fi
  # The unit's ExecStart (dist/rpi-tb-gateway.mjs): without it the service cannot start at all.
  (cd "$stage" && run node scripts/build-server.mjs) || { rm -rf "$stage"; die "building the server bundle failed; the installed version is unchanged"; }
  [ -f "$stage/dist/rpi-tb-gateway.mjs" ] || { rm -rf "$stage"; die "the server bundle $stage/dist/rpi-tb-gateway.mjs is missing after the build; the installed version is unchanged"; }
  printf 'lock=%s\nabi=%s\nnode=%s\ninstalled=%s\n' "$lock" "$NODE_ABI" "$NODE_VERSION" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$stage/.install-state"
  chmod -R go-w "$stage"
  rm -rf "$old"
  [ -d "$app" ] && mv "$app" "$old"
  mv "$stage" "$app"
  rm -rf "$old"
  log "Application installed in $app"
}

# ---------------------------------------------------------------- config and data
minimal_config() {
  cat <<'EOF'
# rpi-tb-gateway configuration. See /opt/rpi-tb-gateway/docs/raspberry-pi.md.
version: 1
hardware: pi
thingsboard:
  # The gateway refuses to start while a REPLACE_WITH_ value is left here.
  host: REPLACE_WITH_THINGSBOARD_HOST
  port: 1883
  accessToken: REPLACE_WITH_GATEWAY_ACCESS_TOKEN   # the gateway device's token ("Is gateway" ticked)
devices: []
EOF
}

install_config() {
  local conf example
  conf="$(p "$CONF_DIR")/config.yaml"
  example="$SOURCE_DIR/config.example.yaml"
  run mkdir -p "$(p "$CONF_DIR")"
  run chmod 0750 "$(p "$CONF_DIR")"
  run chown "root:$APP_USER" "$(p "$CONF_DIR")"
  if [ -e "$conf" ]; then
    log "Keeping existing $conf (never overwritten)"
    return 0
  fi
  if [ "$DRY_RUN" = 1 ]; then
    echo "[dry-run] write $conf from $( [ -f "$example" ] && echo "$example" || echo 'a minimal template')"
    return 0
  fi
  if [ -f "$example" ]; then cp "$example" "$conf"
  else warn "no config.example.yaml in $SOURCE_DIR: writing a minimal config"; minimal_config >"$conf"; fi
  # Readable by the service, writable only by root: it holds the ThingsBoard credentials.
  chmod 0640 "$conf"
  run chown "root:$APP_USER" "$conf"
  log "Wrote $conf: edit it, then: sudo systemctl restart $APP_NAME"
}

install_data_dir() {
  local data
  data="$(p "$DATA_DIR")"
  run mkdir -p "$data"
  run chmod 0750 "$data"
  # Recursive: after an uninstall and reinstall the user may get a new uid, and files left from
  # the old one would be unwritable.
  run chown -R "$APP_USER:$APP_USER" "$data"
}

# ---------------------------------------------------------------- systemd
install_units() {
  local units src
  units="$(p "$UNIT_DIR")"
  src="$SOURCE_DIR/scripts"
  run mkdir -p "$units"
  if [ "$DRY_RUN" = 1 ]; then
    echo "[dry-run] install $UNIT_NAME (node: $NODE_BIN) and $FIRSTBOOT_UNIT into $units"
  else
    # The unit names /usr/bin/node; point it at the node that passed the version check.
    sed "s#^ExecStart=/usr/bin/node #ExecStart=$NODE_BIN #" "$src/$UNIT_NAME" >"$units/$UNIT_NAME"
    chmod 0644 "$units/$UNIT_NAME"
    install -m 0644 "$src/firstboot/$FIRSTBOOT_UNIT" "$units/$FIRSTBOOT_UNIT"
  fi
  local sysroot=()
  [ "$ROOT" != "/" ] && sysroot=("--root=$ROOT")
  # Without a running systemd (chroot, container) daemon-reload fails; enable still works offline.
  run systemctl daemon-reload || warn "systemctl daemon-reload failed (systemd not running?)"
  run systemctl "${sysroot[@]}" enable "$UNIT_NAME"
  # The first-boot unit only runs while its marker exists (scripts/firstboot/prepare-image.sh).
  run systemctl "${sysroot[@]}" enable "$FIRSTBOOT_UNIT"
  if query systemctl is-active --quiet "$UNIT_NAME" 2>/dev/null; then
    log "Service was running: restarting it on the new version"
    run systemctl restart "$UNIT_NAME"
    WAS_RUNNING=1
  else
    WAS_RUNNING=0
  fi
}

print_next_steps() {
  if [ "${WAS_RUNNING:-0}" = 1 ]; then
    echo "Follow the logs: journalctl -u $APP_NAME -f"
    [ "${I2C_CHANGED:-0}" = 1 ] && echo "I2C was enabled: reboot once (sudo reboot) so /dev/i2c-1 appears."
    return 0
  fi
  cat <<EOF
Next steps:
  1. Edit $CONF_DIR/config.yaml (ThingsBoard host, credentials, devices).
  2. sudo systemctl start $APP_NAME
  3. journalctl -u $APP_NAME -f
EOF
  [ "${I2C_CHANGED:-0}" = 1 ] && echo "I2C was enabled: reboot once (sudo reboot) so /dev/i2c-1 appears."
  return 0
}

# The steps of install.sh, one function each (sourced after common.sh).

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
  if [ "$ROOT" != "/" ]; then
    # The build runs on this machine, but --root changes nothing outside DIR: no apt-get here.
    warn "--root: not installing ${missing[*]} on this machine; if npm has to compile a native module it will fail without them (sudo apt-get install ${missing[*]})"
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
  # Under --root, raspi-config would change this machine, not DIR: config.txt in DIR instead.
  if [ "$ROOT" = "/" ] && have raspi-config; then
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

# ---------------------------------------------------------------- 1-Wire
# DS18B20 probes need the w1-gpio overlay (its data pin is GPIO 4 unless gpiopin=N); the kernel
# then loads w1-gpio and w1_therm and lists probes under /sys/bus/w1/devices. raspi-config's
# do_onewire adds the same line, for GPIO 4 only.
enable_1wire() {
  local pin="${W1_PIN:-4}" line cfg
  line="dtoverlay=w1-gpio"
  [ "$pin" != 4 ] && line="dtoverlay=w1-gpio,gpiopin=$pin"
  if [ "$pin" = 4 ] && have raspi-config; then
    log "Enabling 1-Wire on GPIO 4 with raspi-config"
    run raspi-config nonint do_onewire 0
    W1_CHANGED=1
    return 0
  fi
  cfg="$(boot_config)"
  if [ -z "$cfg" ]; then
    warn "no config.txt under /boot/firmware or /boot: add $line to it by hand"
    return 0
  fi
  if grep -Eq '^[[:space:]]*dtoverlay=w1-gpio([,[:space:]]|$)' "$cfg"; then
    log "1-Wire already enabled in $cfg"
    return 0
  fi
  log "Adding $line to $cfg (takes effect after a reboot)"
  W1_CHANGED=1
  if [ "$DRY_RUN" = 1 ]; then echo "[dry-run] append '[all]' + '$line' to $cfg"
  else printf '\n# Added by rpi-tb-gateway install.sh\n[all]\n%s\n' "$line" >>"$cfg"; fi
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

# ---------------------------------------------------------------- config and data
minimal_config() {
  cat <<'EOF'
# rpi-tb-gateway configuration. See /opt/rpi-tb-gateway/current/docs/raspberry-pi.md.
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
  log "Wrote $conf from $( [ -f "$example" ] && echo config.example.yaml || echo 'a minimal template')"
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
# A config that still holds the example's REPLACE_WITH_ placeholders cannot start (the schema
# refuses it): the service is neither enabled nor started until it has been edited (issue 18).
config_has_placeholders() {
  local conf
  conf="$(p "$CONF_DIR")/config.yaml"
  # A dry run has not written the config yet: judge the file it would write.
  if [ ! -e "$conf" ] && [ "$DRY_RUN" = 1 ]; then
    if [ -f "$SOURCE_DIR/config.example.yaml" ]; then conf="$SOURCE_DIR/config.example.yaml"; else minimal_config | grep -Eq '^[^#]*REPLACE_WITH_'; return; fi
  fi
  grep -Eq '^[^#]*REPLACE_WITH_' "$conf" 2>/dev/null
}

install_units() {
  local units src node_path
  units="$(p "$UNIT_DIR")"
  src="$SOURCE_DIR/scripts"
  # Under --root the unit is for DIR's system: its node is DIR's /usr/bin/node, not this machine's.
  node_path="$NODE_BIN"
  [ "$ROOT" != "/" ] && node_path=/usr/bin/node
  run mkdir -p "$units"
  if [ "$DRY_RUN" = 1 ]; then
    echo "[dry-run] install $UNIT_NAME (node: $node_path) and $FIRSTBOOT_UNIT into $units"
  else
    # The unit names /usr/bin/node; point it at the node that passed the version check.
    sed "s#^ExecStart=/usr/bin/node #ExecStart=$node_path #" "$src/$UNIT_NAME" >"$units/$UNIT_NAME"
    chmod 0644 "$units/$UNIT_NAME"
    install -m 0644 "$src/firstboot/$FIRSTBOOT_UNIT" "$units/$FIRSTBOOT_UNIT"
  fi
  local sysroot=()
  [ "$ROOT" != "/" ] && sysroot=("--root=$ROOT")
  # daemon-reload, is-active and restart talk to this machine's systemd: never under --root.
  if [ "$ROOT" = "/" ]; then
    # Without a running systemd (chroot, container) daemon-reload fails; enable still works offline.
    run systemctl daemon-reload || warn "systemctl daemon-reload failed (systemd not running?)"
  fi
  # The first-boot unit only runs while its marker exists (scripts/firstboot/prepare-image.sh).
  run systemctl "${sysroot[@]}" enable "$FIRSTBOOT_UNIT"
  WAS_RUNNING=0
  if config_has_placeholders; then
    NEEDS_EDIT=1
    log "Not enabling $UNIT_NAME: $CONF_DIR/config.yaml still holds REPLACE_WITH_ placeholders"
    return 0
  fi
  NEEDS_EDIT=0
  run systemctl "${sysroot[@]}" enable "$UNIT_NAME"
  if [ "$ROOT" = "/" ] && query systemctl is-active --quiet "$UNIT_NAME" 2>/dev/null; then
    log "Service was running: restarting it on the new version"
    run systemctl restart "$UNIT_NAME"
    WAS_RUNNING=1
  fi
}

# What to do next, in the order it has to be done: edit, reboot (I2C), start.
print_next_steps() {
  local n=1 conf="$CONF_DIR/config.yaml"
  echo
  if [ "$WAS_RUNNING" = 1 ]; then
    echo "The service was restarted on the new version. Follow the logs: journalctl -u $APP_NAME -f"
    [ "${I2C_CHANGED:-0}" = 1 ] && echo "I2C was just enabled: reboot once (sudo reboot) so /dev/i2c-1 appears."
    [ "${W1_CHANGED:-0}" = 1 ] && echo "1-Wire was just enabled: reboot once (sudo reboot) so probes appear under /sys/bus/w1/devices."
    return 0
  fi
  echo "Next steps, in this order:"
  if [ "${NEEDS_EDIT:-0}" = 1 ]; then
    echo "  $n. Edit $conf (sudoedit $conf): replace the REPLACE_WITH_ values with your ThingsBoard host and the gateway device's access token, and list your devices. The service does not start before that."
  else
    echo "  $n. Check $conf (sudoedit $conf): ThingsBoard host, credentials, devices."
  fi
  n=$((n + 1))
  if [ "${I2C_CHANGED:-0}" = 1 ] || [ "${W1_CHANGED:-0}" = 1 ]; then
    local what="I2C" appears="/dev/i2c-1 appears"
    if [ "${W1_CHANGED:-0}" = 1 ] && [ "${I2C_CHANGED:-0}" = 1 ]; then what="I2C and 1-Wire"; appears="/dev/i2c-1 and the 1-Wire probes appear"
    elif [ "${W1_CHANGED:-0}" = 1 ]; then what="1-Wire"; appears="the 1-Wire probes appear under /sys/bus/w1/devices"; fi
    echo "  $n. Reboot once (sudo reboot): $what was just enabled, and $appears only after a reboot."
    n=$((n + 1))
  fi
  if [ "${NEEDS_EDIT:-0}" = 1 ]; then
    echo "  $n. Start it, now and at every boot: sudo systemctl enable --now $APP_NAME"
  else
    echo "  $n. Start it: sudo systemctl start $APP_NAME (it is enabled: it also starts at every boot)"
  fi
  n=$((n + 1))
  echo "  $n. Follow the logs: journalctl -u $APP_NAME -f"
  return 0
}

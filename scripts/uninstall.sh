#!/usr/bin/env bash
# Removes rpi-tb-gateway: the service, its units, the application in /opt and the system user.
# KEEPS the configuration (/etc/rpi-tb-gateway) and the data (/var/lib/rpi-tb-gateway: queued
# telemetry, credentials) so a reinstall picks up where it left off; --purge removes them too.
# The gpio and i2c groups and the I2C setting are left alone: other software uses them.
#
#   sudo scripts/uninstall.sh [--purge] [--root DIR] [--dry-run]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"

PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) PURGE=1 ;;
    --dry-run) DRY_RUN=1 ;;
    --root) set_root "${2:-}"; shift ;;
    --root=*) set_root "${1#--root=}" ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done
require_root_user

sysroot=()
[ "$ROOT" != "/" ] && sysroot=("--root=$ROOT")
units="$(p "$UNIT_DIR")"
for unit in "$UNIT_NAME" "$FIRSTBOOT_UNIT"; do
  if [ -f "$units/$unit" ]; then
    # stop and disable may fail when systemd does not know the unit (already half removed): go on.
    # stop talks to this machine's systemd: never under --root (DIR's service is not running here).
    [ "$ROOT" = "/" ] && { run systemctl stop "$unit" || true; }
    run systemctl "${sysroot[@]}" disable "$unit" || true
    run rm -f "$units/$unit"
  fi
done
# Drop-ins from `systemctl edit` belong to the unit and go with it.
[ -d "$units/$UNIT_NAME.d" ] && run rm -rf "$units/$UNIT_NAME.d"
[ "$ROOT" = "/" ] && { run systemctl daemon-reload || true; }

app="$(p "$APP_DIR")"
for d in "$app" "$app.staging" "$app.old"; do
  [ -e "$d" ] && run rm -rf "$d"
done
run rm -f "$(p /etc/modules-load.d/rpi-tb-gateway-i2c.conf)"

if user_exists "$APP_USER"; then
  pfx=()
  mapfile -t pfx < <(prefix_opt)
  run userdel "${pfx[@]}" "$APP_USER"
fi

if [ "$PURGE" = 1 ]; then
  run rm -rf "$(p "$CONF_DIR")" "$(p "$DATA_DIR")"
  log "Removed rpi-tb-gateway, its configuration and its data."
else
  log "Removed rpi-tb-gateway. Kept your configuration in $CONF_DIR and your data in $DATA_DIR"
  log "(queued telemetry, ThingsBoard credentials). Remove them with: sudo $0 --purge"
fi

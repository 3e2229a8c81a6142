#!/usr/bin/env bash
# Run on the "golden" Pi right before shutting it down to copy its SD card into a fleet image.
# Removes everything that must not be shared between Pis and arms the first-boot step that
# gives each flashed Pi its own identity (rpi-tb-gateway-firstboot.sh).
#
#   sudo scripts/firstboot/prepare-image.sh [--hostname-from-serial] [--force] [--root DIR] [--dry-run]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$SCRIPT_DIR/../lib/common.sh"
# shellcheck source=../lib/fleet.sh
. "$SCRIPT_DIR/../lib/fleet.sh"
# shellcheck source=../lib/imager.sh
. "$SCRIPT_DIR/../lib/imager.sh"

HOSTNAME_FROM_SERIAL=0
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --hostname-from-serial) HOSTNAME_FROM_SERIAL=1 ;;
    --force) FORCE=1 ;;
    --root) set_root "${2:-}"; shift ;;
    --dry-run) DRY_RUN=1 ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done
require_root_user

conf="$(p "$CONF_DIR")/config.yaml"
[ -f "$conf" ] || die "$conf not found: install and configure the gateway first (scripts/install.sh)"
# One access token in the image would make every Pi log in as the same ThingsBoard gateway
# device, each one kicking the others off. Fleets provision themselves instead.
if grep -Eq '^[[:space:]]+accessToken:[[:space:]]*[^[:space:]#]' "$conf"; then
  if [ "$FORCE" = 1 ]; then
    warn "$conf has a thingsboard.accessToken: every Pi from this image will share one gateway device"
  else
    die "$conf has a thingsboard.accessToken, which every Pi from this image would share. Use thingsboard.provision {key, secret} instead (docs/raspberry-pi.md), or pass --force."
  fi
fi
grep -Eq '^[[:space:]]+provision:' "$conf" || warn "no thingsboard.provision in $conf: flashed Pis will not be able to register themselves"

# stop talks to this machine's systemd: under --root, DIR's service is not running here.
[ "$ROOT" = "/" ] && run systemctl stop "$UNIT_NAME"
wipe_data_dir

# "uninitialized", as pi-gen leaves it in a fresh Raspberry Pi OS image: systemd generates a new
# id on the next boot and treats it as a first boot (machine-id(5), "First Boot Semantics"). An
# empty file would get a new id too, but not first-boot semantics. DHCP client ids and journald
# derive from the id.
if [ "$DRY_RUN" = 1 ]; then echo "[dry-run] write 'uninitialized' to $(p /etc/machine-id)"
else printf 'uninitialized\n' >"$(p /etc/machine-id)"; fi
dbus_id="$(p /var/lib/dbus/machine-id)"
if [ -f "$dbus_id" ] && [ ! -L "$dbus_id" ]; then run rm -f "$dbus_id"; fi

# Shared SSH host keys would let one Pi impersonate every other; the first boot makes new ones.
for key in "$(p /etc/ssh)"/ssh_host_*; do
  [ -e "$key" ] && run rm -f "$key"
done

prepare_imager_customisation

run mkdir -p "$(p "$CONF_DIR")"
if [ "$DRY_RUN" = 1 ]; then echo "[dry-run] write $(p "$FIRSTBOOT_MARKER")"
else
  printf 'prepared=%s\nhostname_from_serial=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$HOSTNAME_FROM_SERIAL" >"$(p "$FIRSTBOOT_MARKER")"
fi
sysroot=()
[ "$ROOT" != "/" ] && sysroot=("--root=$ROOT")
run systemctl "${sysroot[@]}" enable "$FIRSTBOOT_UNIT"

log "Image prepared. Now: sudo poweroff, then copy the SD card (docs/raspberry-pi.md, 'One image, many Pis')."
log "Do not boot this card again before copying it, or it will run its own first boot."

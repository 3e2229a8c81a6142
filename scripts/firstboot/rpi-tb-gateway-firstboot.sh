#!/usr/bin/env bash
# First boot of a Pi flashed from a fleet image (see prepare-image.sh and docs/raspberry-pi.md,
# "One image, many Pis"). Run by rpi-tb-gateway-firstboot.service while the marker exists:
#  - empties the gateway data dir, in case anything was written after the image was prepared;
#  - creates this Pi's own SSH host keys (prepare-image.sh removed the shared ones);
#  - optionally names the host after the Pi serial (rpi-<last 8 hex digits>), like the devices;
#  - removes the marker, so it runs once. It is idempotent: if the power goes mid-way, the next
#    boot runs it again.
# The machine id needs nothing here: prepare-image.sh leaves "uninitialized" in /etc/machine-id,
# which makes systemd generate a new one on this boot (machine-id(5), "First Boot Semantics").
# On Trixie, cloud-init would set the hostname from the boot partition's user-data at every boot:
# prepare-image.sh --hostname-from-serial tells it not to (scripts/lib/imager.sh).
# Device names and ThingsBoard credentials need nothing either: names carry the serial
# (server/util/identity.ts) and the app provisions itself with the provision key from the config.
#
#   rpi-tb-gateway-firstboot.sh [--root DIR] [--proc DIR] [--dry-run]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../lib/common.sh
. "$SCRIPT_DIR/../lib/common.sh"
# shellcheck source=../lib/fleet.sh
. "$SCRIPT_DIR/../lib/fleet.sh"

PROC_ROOT="/proc"
while [ $# -gt 0 ]; do
  case "$1" in
    --root) set_root "${2:-}"; shift ;;
    --proc) PROC_ROOT="${2:?--proc needs a directory}"; shift ;;
    --dry-run) DRY_RUN=1 ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done

marker="$(p "$FIRSTBOOT_MARKER")"
if [ ! -f "$marker" ]; then
  log "No first-boot marker ($FIRSTBOOT_MARKER): nothing to do"
  exit 0
fi
option() { sed -n "s/^$1=//p" "$marker" | head -n1; }

wipe_data_dir

if ls "$(p /etc/ssh)"/ssh_host_*_key >/dev/null 2>&1; then
  log "SSH host keys present"
elif have ssh-keygen; then
  if [ "$ROOT" = "/" ]; then run ssh-keygen -A; else run ssh-keygen -A -f "$ROOT"; fi
else
  warn "ssh-keygen not found: no SSH host keys generated"
fi

if [ "$(option hostname_from_serial)" = 1 ]; then
  serial="$(pi_serial "$PROC_ROOT")"
  if [ -z "$serial" ]; then
    warn "no Pi serial number found: keeping the hostname"
  else
    new="rpi-${serial: -8}"
    log "Hostname: $new"
    if [ "$DRY_RUN" = 0 ]; then
      printf '%s\n' "$new" >"$(p /etc/hostname)"
      hosts="$(p /etc/hosts)"
      # Debian maps its own hostname to 127.0.1.1 in /etc/hosts (installer convention); keep that line in step.
      if grep -q '^127\.0\.1\.1[[:space:]]' "$hosts" 2>/dev/null; then
        sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$new/" "$hosts"
      else
        printf '127.0.1.1\t%s\n' "$new" >>"$hosts"
      fi
    fi
    run hostname "$new"
  fi
fi

if [ "$DRY_RUN" = 1 ]; then
  echo "[dry-run] remove $marker"
else
  rm -f "$marker"
  sync
fi
log "First boot done: this Pi has its own identity"

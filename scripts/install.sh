#!/usr/bin/env bash
# Installs or upgrades rpi-tb-gateway as a systemd service on Raspberry Pi OS (64-bit Bookworm
# and Trixie; 32-bit ARMv7 with a warning, ARMv6 refused). Idempotent: re-run it from a newer
# checkout to upgrade.
#
#   sudo scripts/install.sh [--enable-i2c] [--enable-1wire[=GPIO]] [--source DIR] [--skip-apt] [--root DIR] [--dry-run]
#
# Never overwrites /etc/rpi-tb-gateway/config.yaml or anything in /var/lib/rpi-tb-gateway.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"
# shellcheck source=lib/install-platform.sh
. "$SCRIPT_DIR/lib/install-platform.sh"
# shellcheck source=lib/install-app.sh
. "$SCRIPT_DIR/lib/install-app.sh"
# shellcheck source=lib/install-steps.sh
. "$SCRIPT_DIR/lib/install-steps.sh"

SOURCE_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
ENABLE_I2C=0
ENABLE_1WIRE=0
SKIP_APT=0
NODE_MIN="20.19.0"

usage() {
  cat <<EOF
Usage: sudo $0 [options]
  --enable-i2c   turn on the I2C bus (raspi-config, else dtparam=i2c_arm=on in config.txt)
  --enable-1wire[=GPIO]  turn on 1-Wire for DS18B20 probes (dtoverlay=w1-gpio; GPIO 4 unless given)
  --source DIR   checkout to install from (default: $SOURCE_DIR)
  --skip-apt     do not apt-get install build tools (offline re-runs)
  --root DIR     install under DIR instead of / (tests, staging a mounted image): changes
                 nothing outside DIR (no apt-get, raspi-config, daemon-reload or restart)
  --dry-run      print the steps, change nothing
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --enable-i2c) ENABLE_I2C=1 ;;
    --enable-1wire) ENABLE_1WIRE=1 ;;
    --enable-1wire=*)
      ENABLE_1WIRE=1
      W1_PIN="${1#--enable-1wire=}"
      [[ "$W1_PIN" =~ ^([0-9]|1[0-9]|2[0-7])$ ]] || die "--enable-1wire=GPIO: expected a BCM GPIO 0-27, got '$W1_PIN'"
      ;;
    --skip-apt) SKIP_APT=1 ;;
    --dry-run) DRY_RUN=1 ;;
    --root) set_root "${2:-}"; shift ;;
    --root=*) set_root "${1#--root=}" ;;
    --source) SOURCE_DIR="$(cd "${2:?--source needs a directory}" && pwd)"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
  shift
done

require_root_user
[ -f "$SOURCE_DIR/package.json" ] || die "$SOURCE_DIR does not look like an rpi-tb-gateway checkout (no package.json)"

log "Installing $APP_NAME from $SOURCE_DIR into ${ROOT%/}$APP_DIR$([ "$DRY_RUN" = 1 ] && echo ' (dry run)')"
# Checks first: a refusal changes nothing.
check_machine
check_node
install_build_deps
[ "$ENABLE_I2C" = 1 ] && enable_i2c
[ "$ENABLE_1WIRE" = 1 ] && enable_1wire
ensure_user
install_app
install_config
install_data_dir
install_units
log "Done."
print_next_steps

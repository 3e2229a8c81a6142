# Shared helpers for install.sh, uninstall.sh and the first-boot scripts (sourced, not run).
#
# Two rules make every script testable without touching the machine it runs on:
#  - every file path goes through `p /abs/path`, which prefixes the --root directory;
#  - every command that changes the system goes through `run cmd args...`, so a test can put
#    fake systemctl/useradd/apt-get/... first on PATH, and --dry-run only prints.

APP_NAME="rpi-tb-gateway"
APP_USER="rpi-tb-gateway"
APP_DIR="/opt/rpi-tb-gateway"
CONF_DIR="/etc/rpi-tb-gateway"
DATA_DIR="/var/lib/rpi-tb-gateway"
UNIT_DIR="/etc/systemd/system"
UNIT_NAME="rpi-tb-gateway.service"
FIRSTBOOT_UNIT="rpi-tb-gateway-firstboot.service"
FIRSTBOOT_MARKER="/etc/rpi-tb-gateway/firstboot-pending"

ROOT="/"
DRY_RUN=0

log() { printf '%s\n' "==> $*"; }
warn() { printf '%s\n' "WARNING: $*" >&2; }
die() {
  printf '%s\n' "ERROR: $*" >&2
  exit 1
}

# p /etc/x -> <root>/etc/x (no double slash when root is /).
p() {
  if [ "$ROOT" = "/" ]; then printf '%s' "$1"; else printf '%s' "${ROOT%/}$1"; fi
}

set_root() {
  [ -n "$1" ] || die "--root needs a directory"
  [ -d "$1" ] || die "--root $1: no such directory"
  ROOT="$(cd "$1" && pwd)"
}

# run cmd args...: the one door for system-changing commands.
run() {
  if [ "$DRY_RUN" = 1 ]; then
    printf '[dry-run] %s\n' "$*"
    return 0
  fi
  printf '+ %s\n' "$*"
  "$@"
}

# The same, for commands whose output is wanted (queries): they also run under --dry-run,
# because a dry run must still decide what it would do.
query() { "$@"; }

have() { command -v "$1" >/dev/null 2>&1; }

# Account databases are read as files so that --root points them at the target tree.
group_exists() { grep -q "^$1:" "$(p /etc/group)" 2>/dev/null; }
user_exists() { grep -q "^$1:" "$(p /etc/passwd)" 2>/dev/null; }

# useradd/groupadd/usermod/userdel write into the --root tree with --prefix (shadow >= 4.9,
# Debian 12 has 4.13); on the live system no extra option is passed.
prefix_opt() {
  if [ "$ROOT" != "/" ]; then printf '%s\n' "--prefix" "$ROOT"; fi
}

require_root_user() {
  if [ "$ROOT" = "/" ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "this changes the system: run it with sudo (or use --dry-run to see the steps)"
  fi
}

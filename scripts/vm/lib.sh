# Shared by the scripts in scripts/vm/ (sourced, not run).
# Everything built here is cached OUTSIDE the checkout, under a directory keyed by a hash of its
# inputs, so only the first run on a machine pays for the kernel build and the debootstrap.
VM_CACHE="${RPI_TB_VM_CACHE:-/var/cache/rpi-tb-gateway-vm}"
VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

vlog() { printf '[vm %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
vdie() {
  printf '[vm] ERROR: %s\n' "$*" >&2
  exit 1
}

# inputs_hash FILE... : a short hash of the files' contents (the cache key).
inputs_hash() { cat "$@" | sha256sum | cut -c1-16; }

# retry N CMD... : a download from Debian's mirror may fail once in a while (a dropped connection,
# a mirror mid-sync); a fresh CI machine downloads everything, so try again before failing the run.
retry() {
  local n="$1" i=1
  shift
  until "$@"; do
    [ "$i" -ge "$n" ] && return 1
    vlog "attempt $i of $n failed: $1; retrying in $((i * 10)) s"
    sleep $((i * 10))
    i=$((i + 1))
  done
}

# Heavy steps share the machine with other work: lowest CPU priority.
nice19() { nice -n 19 "$@"; }

# apt-get with a private configuration in the cache (Debian trixie's index for the kernel
# source), so the host's own apt sources and state are never changed.
trixie_apt() {
  local d="$VM_CACHE/apt"
  mkdir -p "$d/lists/partial" "$d/archives/partial"
  [ -f "$d/sources.list" ] || printf '%s\n' \
    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$d/sources.list"
  retry 3 apt-get -q -o Dir::Etc::SourceList="$d/sources.list" -o Dir::Etc::SourceParts=/dev/null \
    -o Dir::State::Lists="$d/lists" -o Dir::Cache::Archives="$d/archives" \
    -o Dir::State::Status=/dev/null -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= \
    -o APT::Sandbox::User=root "$@"
}

# need_host_packages PKG... : install what is missing (a fresh CI machine has none of them).
need_host_packages() {
  local missing=() p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  vlog "installing host packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  retry 3 apt-get update -qq
  retry 3 nice19 apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

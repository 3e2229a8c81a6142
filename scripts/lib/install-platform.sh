# install.sh's checks of the machine and the Node.js runtime (sourced after common.sh). They run
# before anything is changed, so a refusal leaves the system as it was.

# Node 24 LTS is the runtime on the Pi (22 accepted): better-sqlite3 >= 12.10 ships prebuilt
# binaries for Node 22, 24 and newer only (its release workflow), so on Node 20, which reached end
# of life on 2026-04-30 and is what Trixie's apt has, every Pi compiles SQLite from source:
# about 800 MB of RAM (a Zero 2 W has 512 MB) and up to hours of swapping (issue 18).
NODE_RECOMMENDED_MAJOR=24

version_ge() { # version_ge 20.19.1 20.19.0 -> true
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# ---------------------------------------------------------------- machine
# Machine names as `uname -m` gives them; arm64 and aarch64 are the same thing.
machine_family() {
  case "$1" in
    aarch64 | arm64) echo aarch64 ;;
    armv6l | armv7l | armv8l | arm) echo arm ;;
    x86_64 | amd64) echo x86_64 ;;
    *) echo "$1" ;;
  esac
}

# The machine of an ELF binary, from its e_machine field (offset 18, little-endian on every
# architecture a Pi image or a build host has): lets --root tell what DIR's system runs on
# without running anything from it.
elf_machine() { # elf_machine FILE
  local magic em
  magic="$(od -An -c -N4 "$1" 2>/dev/null | tr -d ' ')"
  [ "$magic" = '177ELF' ] || return 1
  em="$(od -An -tu2 -j18 -N2 "$1" 2>/dev/null | tr -d ' ')"
  case "$em" in
    183) echo aarch64 ;;
    40) echo arm ;;
    62) echo x86_64 ;;
    3) echo i686 ;;
    *) echo "elf-machine-$em" ;;
  esac
}

# Under --root, native modules must be built for DIR's system, not this machine's: refuse when
# DIR holds a system of another architecture. A DIR without a system (a staging directory, the
# tests' roots) gets this machine's build.
check_target_arch() { # check_target_arch HOST_MACHINE
  local host bin target=""
  host="$(machine_family "$1")"
  for bin in /usr/bin/node /usr/bin/sh /bin/sh; do
    if [ -f "$(p "$bin")" ] && target="$(elf_machine "$(p "$bin")")"; then break; fi
    target=""
  done
  if [ -z "$target" ]; then
    log "No system found in $ROOT (no usr/bin/node, no bin/sh): building for this machine ($1)"
    return 0
  fi
  if [ "$target" != "$host" ]; then
    die "$ROOT holds a $target system ($bin) and this machine is $host: native modules (better-sqlite3, epoll, i2c-bus) built here would not load there. Run the installer on the Pi itself, or inside the image with an emulated $target chroot (systemd-nspawn with qemu-user-static)."
  fi
  log "$ROOT holds a $target system, like this machine"
}

# ARMv6 (Pi 1, Zero, Zero W) cannot run this: official Node builds need ARMv7 or newer, the
# unofficial ARMv6 builds would get ARMv7 prebuilt binaries (prebuild-install picks by
# process.arch alone) that crash with SIGILL, and esbuild's 32-bit ARM binary targets ARMv7.
# 32-bit ARMv7 runs, but official Node 24 dropped it and NodeSource's armhf builds stop at 22.15:
# Node 22 is its last runtime (end of life April 2027). The machine is `uname -m`'s name for it,
# so the check runs (and is tested) off a Pi too. The build (npm) runs on this machine, so under
# --root DIR's system must match it.
check_machine() {
  MACHINE="$(query uname -m)"
  [ "$ROOT" != "/" ] && check_target_arch "$MACHINE"
  case "$MACHINE" in
    armv6l)
      die "this is an ARMv6 Raspberry Pi (Pi 1, Zero, Zero W; uname -m: armv6l), which rpi-tb-gateway cannot run on: official Node.js needs ARMv7 or newer, and the native modules' prebuilt binaries and esbuild are built for ARMv7 and crash there (SIGILL). Use a Pi Zero 2 W, 3, 4 or 5 with Raspberry Pi OS (64-bit)." ;;
    armv7l | armv8l)
      warn_32bit_arm "$MACHINE" ;;
  esac
  return 0
}

warn_32bit_arm() {
  warn "32-bit ARM ($1): Node.js 22 is the last runtime for it (official Node 24 has no 32-bit ARM build; NodeSource's armhf builds stop at 22.15), and Node 22 reaches end of life in April 2027. A Pi Zero 2 W, 3, 4 or 5 can run Raspberry Pi OS (64-bit) instead: reflash with it for Node 24 and updates after 2027."
}

# ---------------------------------------------------------------- Node.js and npm
node_help() {
  cat >&2 <<EOF

rpi-tb-gateway runs on Node.js $NODE_RECOMMENDED_MAJOR LTS (22 accepted; >= $NODE_MIN works, see below).
Install it system-wide, with npm, then re-run this script:
  - Raspberry Pi OS (64-bit), Bookworm or Trixie, from NodeSource:
      curl -fsSL https://deb.nodesource.com/setup_${NODE_RECOMMENDED_MAJOR}.x -o nodesource_setup.sh
      sudo bash nodesource_setup.sh && sudo apt-get install -y nodejs
    (Bookworm's own nodejs is 18.x: too old. Trixie's is 20.x, past end of life, and comes without
    npm: better-sqlite3 has no prebuilt binary for it, so SQLite is compiled on the Pi, which needs
    about 800 MB of RAM and can take hours.)
  - 32-bit Raspberry Pi OS on ARMv7 (Pi 2, 3, 4): NodeSource's setup_22.x (its last armhf builds);
    Node 22 reaches end of life in April 2027.
  - ARMv6 (Pi 1, Zero, Zero W): not supported.
Install Node system-wide (/usr/bin/node): a per-user install (nvm) is not reachable by the service.
EOF
}

check_node() {
  if ! have node; then
    node_help
    die "node not found"
  fi
  # Trixie's nodejs package comes without npm (a separate package): check before changing anything.
  if ! have npm; then
    node_help
    die "npm not found (Debian's nodejs package does not include it): sudo apt install npm, or install Node.js from NodeSource, which includes it"
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
  # 32-bit Raspberry Pi OS on a Pi 3/4 runs a 64-bit kernel (uname -m: aarch64) under a 32-bit
  # userland: the node binary's arch is what native modules are built for.
  if [ "${NODE_ABI##*-}" = arm ] && [ "$(machine_family "${MACHINE:-}")" = aarch64 ]; then
    warn_32bit_arm "32-bit node on a 64-bit kernel"
  fi
  local major="${NODE_VERSION%%.*}"
  if [ "$major" -lt 22 ]; then
    warn "Node.js $NODE_VERSION: Node 20 reached end of life on 2026-04-30, and better-sqlite3 ships no prebuilt binary for it, so npm compiles SQLite from source (about 800 MB of RAM, up to hours on a Pi). Node $NODE_RECOMMENDED_MAJOR LTS is the runtime to use (node_help below)."
    node_help
  fi
  log "Node.js $NODE_VERSION ($NODE_BIN, ABI $NODE_ABI)"
}

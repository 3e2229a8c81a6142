#!/usr/bin/env bash
# Applies a verified over-the-air update and rolls back a release that does not become healthy
# (issue 16). systemd runs it as root before every start of the service (ExecStartPre=+ in
# rpi-tb-gateway.service): the service itself runs unprivileged and cannot write the release
# directory, so it only downloads and verifies (server/features/ota) and leaves
#   <data>/ota/apply.json + package.tar.gz  -> unpacked to releases/<id>, native modules checked,
#                                              `current` switched by one rename (install-app.sh)
#   <data>/ota/pending.json                 <- the release on trial and the one to go back to
#   <data>/ota/healthy                      <- written by the service on trial once connected
#                                              to ThingsBoard with its devices running
#   <data>/ota/result.json                  <- FAILED with the reason, on a rollback or a refusal
# A release on trial that is started MAX_STARTS times without becoming healthy (it crashed,
# hung until the watchdog, missed the health deadline, or power was cut) is rolled back to the
# previous release, which the switch always keeps. Every step can be killed at any point: the
# next start finds either the old `current` with apply.json still there (the unpack is redone)
# or the new one with pending.json (the trial goes on).
#
#   ota-guard.sh [--root DIR]      (DIR stands in for / in tests)
#
# It never stops the service from starting: whatever goes wrong here is logged and recorded,
# and the service starts with what `current` names.
set -uo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"
# shellcheck source=lib/install-app.sh
. "$SCRIPT_DIR/lib/install-app.sh"

MAX_STARTS=2

while [ $# -gt 0 ]; do
  case "$1" in
    --root) set_root "${2:-}"; shift ;;
    --root=*) set_root "${1#--root=}" ;;
    *) die "unknown option: $1" ;;
  esac
  shift
done

APP="$(p "$APP_DIR")"
OTA="$(p "$DATA_DIR")/ota"
[ -d "$OTA" ] || exit 0

# json_get FILE KEY: a string or number field of the one-line JSON files the updater and this
# script write ("key":"value" or "key":123); empty when absent.
json_get() {
  [ -f "$1" ] || return 0
  sed -n "s/.*\"$2\":[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p; t; s/.*\"$2\":[[:space:]]*\\([0-9][0-9]*\\).*/\\1/p" "$1" | head -n1
}

# Versions and release names end up in paths and JSON: only plain characters.
safe() { [[ "$1" =~ ^[A-Za-z0-9._+-]{1,100}$ ]]; }

# Every file written here is read by the unprivileged service (pending.json tells it it is on trial,
# result.json what to report), and systemd runs this script with the unit's UMask=0027: 0644.
write_atomic() { # write_atomic FILE CONTENT
  printf '%s\n' "$2" >"$1.tmp" && chmod 0644 "$1.tmp" && sync "$1.tmp" 2>/dev/null; mv -f "$1.tmp" "$1"
}

record_failure() { # record_failure VERSION CHECKSUM REASON
  local reason="${3//\"/\'}"
  write_atomic "$OTA/result.json" "{\"state\":\"FAILED\",\"title\":\"$APP_NAME\",\"version\":\"$1\",\"checksum\":\"$2\",\"error\":\"$reason\",\"ts\":$(date +%s)000,\"reported\":false}"
  chmod 0644 "$OTA/result.json" 2>/dev/null || true
  warn "software update to $1 failed: $3"
}

version_of() { # version_of RELEASE_DIR: the package.json version of a release
  json_get "$1/package.json" version
}

# 1. A release on trial.
if [ -f "$OTA/pending.json" ]; then
  version="$(json_get "$OTA/pending.json" version)"
  target="$(json_get "$OTA/pending.json" target)"
  previous="$(json_get "$OTA/pending.json" previous)"
  checksum="$(json_get "$OTA/pending.json" checksum)"
  starts="$(json_get "$OTA/pending.json" starts)"
  starts="${starts:-0}"
  if [ "$(json_get "$OTA/healthy" version)" = "$version" ]; then
    log "release $version proved healthy; the trial is over"
    rm -f "$OTA/pending.json" "$OTA/healthy"
  elif [ "$(current_target "$APP")" != "$target" ]; then
    # Killed between writing pending.json and the switch (or switched by hand): no trial.
    rm -f "$OTA/pending.json"
  elif [ "$starts" -lt "$MAX_STARTS" ]; then
    write_atomic "$OTA/pending.json" "{\"version\":\"$version\",\"target\":\"$target\",\"previous\":\"$previous\",\"checksum\":\"$checksum\",\"starts\":$((starts + 1))}"
    log "release $version on trial: start $((starts + 1)) of $MAX_STARTS"
    exit 0
  else
    prev_version="$(version_of "$APP/$previous")"
    if [ -n "$previous" ] && [ -d "$APP/$previous" ]; then
      switch_current "$APP" "$previous"
      record_failure "$version" "$checksum" "release $version did not become healthy (connected to ThingsBoard with its devices running) in $MAX_STARTS starts; rolled back to ${prev_version:-$previous}"
    else
      record_failure "$version" "$checksum" "release $version did not become healthy and the previous release $previous is gone; kept $version"
    fi
    rm -f "$OTA/pending.json" "$OTA/apply.json" "$OTA/healthy"
    exit 0
  fi
fi

# 2. A verified package to apply.
[ -f "$OTA/apply.json" ] || exit 0
version="$(json_get "$OTA/apply.json" version)"
checksum="$(json_get "$OTA/apply.json" checksum)"
pkg="$OTA/package.tar.gz"
refuse() {
  record_failure "$version" "$checksum" "$1"
  rm -rf "${stage:-}"
  rm -f "$OTA/apply.json" "$pkg"
  exit 0
}
safe "$version" || refuse "apply.json names no usable version"
[ -f "$pkg" ] || refuse "the downloaded package is missing"
previous="$(current_target "$APP")"
[ -n "$previous" ] && [ -d "$APP/$previous" ] || refuse "no current release to come back to (install with scripts/install.sh first)"

mkdir -p "$APP/releases"
# Leftovers of an unpack that was cut short.
rm -rf "$APP"/releases/.ota-*.partial
id="ota-$version-$(date -u +%Y%m%dT%H%M%SZ)"
while [ -e "$APP/releases/$id" ]; do id="$id-$RANDOM"; done
stage="$APP/releases/.$id.partial"
mkdir -p "$stage"
log "Unpacking release $version into $APP/releases/$id"
tar -xzf "$pkg" -C "$stage" --no-same-owner ./manifest.json ./app || refuse "the package does not unpack (tar failed)"
[ "$(json_get "$stage/manifest.json" version)" = "$version" ] || refuse "the package's manifest is not for version $version"
[ "$(version_of "$stage/app")" = "$version" ] || refuse "the package's package.json is not version $version"
[ -f "$stage/app/scripts/check-native.mjs" ] || refuse "the package has no scripts/check-native.mjs"
(cd "$stage/app" && run node scripts/check-native.mjs) || refuse "a native module of release $version does not load with this node (above)"
chmod -R go-w "$stage/app"
run chown -R root:root "$stage/app" || refuse "chown root:root failed"
mv -T "$stage/app" "$APP/releases/$id"
rm -rf "$stage"
write_atomic "$OTA/pending.json" "{\"version\":\"$version\",\"target\":\"releases/$id\",\"previous\":\"$previous\",\"checksum\":\"$checksum\",\"starts\":1}"
chmod 0644 "$OTA/pending.json"
switch_current "$APP" "releases/$id"
rm -f "$OTA/apply.json" "$pkg" "$OTA/download.json" "$OTA/healthy"
# Kept: the new release and the one it replaced (install-app.sh's rule).
prune_releases "$APP" "releases/$id" "$previous"
log "Switched to release $version ($APP/current -> releases/$id); on trial until it reports healthy"
exit 0

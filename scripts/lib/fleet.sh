# Helpers shared by the fleet-image scripts (sourced after common.sh).

# Pi serial the same way server/util/identity.ts reads it: device tree first (NUL-terminated),
# then the "Serial : ..." line of cpuinfo; all-zero serials identify nothing.
pi_serial() { # pi_serial PROC_ROOT
  local s=""
  if [ -r "$1/device-tree/serial-number" ]; then s="$(tr -d '\0' <"$1/device-tree/serial-number" | tr 'A-F' 'a-f')"; fi
  if ! [[ "$s" =~ ^[0-9a-f]{4,32}$ ]] || [[ "$s" =~ ^0+$ ]]; then
    s="$(sed -n 's/^Serial[[:space:]]*:[[:space:]]*\([0-9A-Fa-f]*\)[[:space:]]*$/\1/p' "$1/cpuinfo" 2>/dev/null | head -n1 | tr 'A-F' 'a-f')"
  fi
  if [[ "$s" =~ ^[0-9a-f]{4,32}$ ]] && ! [[ "$s" =~ ^0+$ ]]; then printf '%s' "$s"; fi
}

# Everything in the data dir belongs to one unit: gateway credentials obtained by provisioning,
# the outbox of telemetry not yet delivered, dashboard session secrets and generated password
# hashes, device state. None of it may be shared by two Pis, so all of it goes.
wipe_data_dir() {
  local data
  data="$(p "$DATA_DIR")"
  [ -d "$data" ] || return 0
  if [ "$DRY_RUN" = 1 ]; then echo "[dry-run] remove everything inside $data"; return 0; fi
  find "$data" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  log "Emptied $data (credentials, outbox, dashboard secrets, state)"
}

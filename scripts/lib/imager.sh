# How Raspberry Pi Imager's OS customisation lives on in a golden image, and what prepare-image.sh
# does about it (sourced after common.sh). Two generations of Raspberry Pi OS:
#  - Bookworm: Imager writes firstrun.sh to the boot partition and starts it once from cmdline.txt
#    (systemd.run=...firstrun.sh); the script removes itself, so a golden Pi has none left.
#  - Trixie: Imager writes cloud-init files (user-data, network-config, meta-data) to the boot
#    partition, and cloud-init applies `hostname:` from user-data on every boot: in a cloned image
#    that would replace the rpi-<serial> name the first boot gives each Pi (issue 18).

boot_partition() {
  # Bookworm and later mount it at /boot/firmware; older images at /boot.
  if [ -d "$(p /boot/firmware)" ]; then p /boot/firmware; else p /boot; fi
}

CLOUD_CFG_DROPIN="/etc/cloud/cloud.cfg.d/99-rpi-tb-gateway.cfg"

prepare_imager_customisation() {
  local boot cmdline userdata
  boot="$(boot_partition)"
  cmdline="$boot/cmdline.txt"
  # Bookworm: a firstrun.sh still armed would run the golden Pi's customisation (its hostname,
  # user, Wi-Fi) again on every Pi flashed from this image.
  if grep -q 'systemd\.run=[^ ]*firstrun\.sh' "$cmdline" 2>/dev/null; then
    warn "$cmdline still starts Imager's firstrun.sh: every Pi from this image would run this card's OS customisation again. Boot the golden Pi once more before preparing the image, or remove the systemd.run=... arguments from cmdline.txt."
  fi
  # Trixie: cloud-init.
  [ -d "$(p /etc/cloud)" ] || return 0
  userdata="$boot/user-data"
  if [ "$HOSTNAME_FROM_SERIAL" != 1 ]; then
    if grep -Eq '^(hostname|fqdn):' "$userdata" 2>/dev/null; then
      log "cloud-init sets the hostname from $userdata at every boot: every Pi from this image gets the same one (use --hostname-from-serial for rpi-<serial>)"
    fi
    return 0
  fi
  # The first boot names the host after its serial; cloud-init must not set it back. Both: the
  # system setting (kept if the boot partition's files are rewritten, e.g. by Imager) and the
  # user-data lines (user-data can override system settings).
  if [ "$DRY_RUN" = 1 ]; then
    echo "[dry-run] write preserve_hostname: true to $(p "$CLOUD_CFG_DROPIN"); comment out hostname/fqdn in $userdata"
    return 0
  fi
  mkdir -p "$(dirname "$(p "$CLOUD_CFG_DROPIN")")"
  printf '%s\n' "# Written by rpi-tb-gateway's prepare-image.sh --hostname-from-serial: the first boot names" \
    "# this Pi rpi-<serial> (scripts/firstboot); cloud-init must not set the hostname back from user-data." \
    "preserve_hostname: true" >"$(p "$CLOUD_CFG_DROPIN")"
  if [ -f "$userdata" ] && grep -Eq '^(hostname|fqdn|preserve_hostname):' "$userdata"; then
    sed -i -E 's/^((hostname|fqdn|preserve_hostname):.*)$/# rpi-tb-gateway: hostname from the Pi serial instead: \1/' "$userdata"
    log "Commented out the hostname in $userdata: the first boot names each Pi rpi-<serial>"
  fi
  log "cloud-init keeps the hostname the first boot sets ($CLOUD_CFG_DROPIN)"
}

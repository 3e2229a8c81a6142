#!/usr/bin/env bash
# Builds (or finds in the cache) the virtual Pi's base root file system: Debian bookworm minbase
# with systemd, udev and i2c-tools, the gpio and i2c groups and udev rules of Raspberry Pi OS, the
# serial getty masked (it would take the console the test reports on). Prints its directory.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY="$(inputs_hash "$VM_DIR/rootfs-packages.txt" "$VM_DIR/99-com.rules" "$VM_DIR/build-rootfs.sh")"
OUT="$VM_CACHE/rootfs-$KEY"
if [ -f "$OUT/.complete" ]; then
  vlog "root file system: cached ($OUT)"
  echo "$OUT"
  exit 0
fi
need_host_packages debootstrap
start=$(date +%s)
mkdir -p "$VM_CACHE"
work="$(mktemp -d "$VM_CACHE/rootfs-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
pkgs="$(sed 's/#.*//' "$VM_DIR/rootfs-packages.txt" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')"
vlog "root file system: debootstrap bookworm minbase + $pkgs (about 1 min)"
nice19 debootstrap --variant=minbase --include="$pkgs" bookworm "$work/root" http://deb.debian.org/debian \
  >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; vdie "debootstrap failed"; }
r="$work/root"
echo virtual-pi >"$r/etc/hostname"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$r/etc/fstab"
# Raspberry Pi OS ships both groups; the installer adds its user to them.
for g in gpio i2c; do chroot "$r" sh -c "getent group $g >/dev/null || groupadd --system $g"; done
install -m 0644 "$VM_DIR/99-com.rules" "$r/etc/udev/rules.d/99-com.rules"
# The serial getty would take ttyS0, where the test reports; nobody logs in.
ln -sf /dev/null "$r/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$r/etc/systemd/system/getty@tty1.service"
# Nothing to wait for: no network device, no clock to sync.
ln -sf /dev/null "$r/etc/systemd/system/systemd-networkd-wait-online.service"
ln -sf /dev/null "$r/etc/systemd/system/apt-daily.timer"
ln -sf /dev/null "$r/etc/systemd/system/apt-daily-upgrade.timer"
rm -rf "$r/var/cache/apt/archives/"*.deb "$r/var/lib/apt/lists/"*
touch "$r/.complete"
rm -rf "$OUT"
mv "$r" "$OUT"
vlog "root file system: built in $(($(date +%s) - start)) s -> $OUT"
echo "$OUT"

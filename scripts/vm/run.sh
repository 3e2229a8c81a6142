#!/usr/bin/env bash
# npm run test:vm: the appliance installed on a real Linux kernel's GPIO (gpio-sim) and I2C
# (i2c-stub), under a real systemd, in a qemu VM (software emulation: KVM does not run a normal
# guest on these machines). Builds or reuses the cached kernel and root file system
# (RPI_TB_VM_CACHE, default /var/cache/rpi-tb-gateway-vm), assembles a disk image with this
# checkout, the host's node and production node_modules, boots it, prints each check as it runs
# and exits non-zero unless every check passed. Needs root (debootstrap, chroot, mkfs -d).
#
#   scripts/vm/run.sh [--keep]    --keep: leave the work directory (disk image, console log)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
REPO="$(cd "$VM_DIR/../.." && pwd)"
KEEP=0
[ "${1:-}" = --keep ] && KEEP=1
[ "$(id -u)" = 0 ] || vdie "needs root (debootstrap, chroot, mkfs.ext4 -d); CI runs as root"
t0=$(date +%s)
need_host_packages qemu-system-x86 e2fsprogs
[ -x "$REPO/node_modules/.bin/esbuild" ] || vdie "no node_modules in $REPO: run npm ci first"

# RPI_TB_VM_KERNEL_DIR: another kernel (bzImage, optional initrd.img, lib/modules, version), for
# working on the VM scripts while the real one builds; checks that need gpio-sim then fail.
kernel="${RPI_TB_VM_KERNEL_DIR:-$("$VM_DIR/build-kernel.sh")}"
rootfs="$("$VM_DIR/build-rootfs.sh")"

# Production node_modules for this lockfile and this node (same ABI inside the VM: the host's
# node binary is copied in), made from the checkout's own node_modules without the network.
node_key="$( (cat "$REPO/package-lock.json"; node -p 'process.version + process.versions.modules + process.arch'; cat "$VM_DIR/run.sh") | sha256sum | cut -c1-16)"
prod="$VM_CACHE/node-modules-$node_key"
if [ ! -f "$prod/.complete" ]; then
  vlog "production node_modules: pruning a copy of the checkout's"
  rm -rf "$prod" && mkdir -p "$prod"
  cp "$REPO/package.json" "$REPO/package-lock.json" "$prod/"
  cp -a "$REPO/node_modules" "$prod/"
  (cd "$prod" && nice19 npm prune --omit=dev --offline --ignore-scripts --no-audit --no-fund >/dev/null)
  touch "$prod/.complete"
else
  vlog "production node_modules: cached ($prod)"
fi

work="$(mktemp -d /var/tmp/rpi-tb-gateway-vm.XXXXXX)"
qemu_pid=""
cleanup() {
  [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then vlog "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
root="$work/root"
vlog "assembling the disk image in $work"
cp -a "$rootfs" "$root"
rm -f "$root/.complete"
kver="$(cat "$kernel/version")"
mkdir -p "$root/lib/modules"
cp -a "$kernel/lib/modules/$kver" "$root/lib/modules/"
chroot "$root" depmod -a "$kver"
# Node: the host's binary (Debian bookworm's glibc, like the VM), with npm beside it.
install -m 0755 "$(command -v node)" "$root/usr/bin/node"
npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."
if [ -f "$npm_dir/package.json" ]; then
  mkdir -p "$root/usr/lib/node_modules"
  cp -a "$(cd "$npm_dir" && pwd)" "$root/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
fi
# The checkout as a user would have it (tracked and untracked-but-not-ignored files).
mkdir -p "$root/root/src/v1"
(cd "$REPO" && git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -C "$root/root/src/v1" -xf -
mkdir -p "$root/root/seed"
cp -a "$prod/node_modules" "$root/root/seed/"
# The release package for the over-the-air checks (scripts/vm/guest/otaChecks.ts): npm run package
# of this checkout with the production node_modules above, built here where gzip is not emulated,
# from a copy so that the build writes nothing into the checkout.
mkdir -p "$work/package-src" "$root/root/ota"
cp -a "$root/root/src/v1/." "$work/package-src/"
ln -s "$prod/node_modules" "$work/package-src/node_modules"
nice19 node "$work/package-src/scripts/package.mjs" --version 0.2.0-vmota --node-modules "$prod/node_modules" \
  --out "$root/root/ota" >"$work/package.log" 2>&1 || { tail -n 20 "$work/package.log" >&2; vdie "npm run package failed"; }
rm -rf "$work/package-src"
mkdir -p "$root/usr/local/lib/vm-checks"
"$REPO/node_modules/.bin/esbuild" "$VM_DIR/guest/checks.ts" --bundle --platform=node --format=esm --target=node20 \
  --log-level=warning --outfile="$root/usr/local/lib/vm-checks/checks.mjs" \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
install -m 0644 "$VM_DIR/vm-checks.service" "$root/etc/systemd/system/vm-checks.service"
ln -sf ../vm-checks.service "$root/etc/systemd/system/multi-user.target.wants/vm-checks.service"
touch "$root/etc/rpi-tb-gateway-vm-test"
size_mb=$(($(du -sm "$root" | cut -f1) + 1536))
mkfs.ext4 -q -F -L virtual-pi -d "$root" "$work/disk.img" "${size_mb}M" >/dev/null
rm -rf "$root"
prep=$(($(date +%s) - t0))

vlog "booting the virtual Pi (qemu TCG, 2 vCPUs, 2 GiB); the checks follow"
console="$work/console.log"
initrd=()
[ -f "$kernel/initrd.img" ] && initrd=(-initrd "$kernel/initrd.img")
# -cpu Nehalem: x86-64-v2 (SSE4.2, POPCNT), what V8 makes good use of; no AVX, which TCG
# emulates slowly.
nice19 qemu-system-x86_64 -accel tcg,thread=multi -cpu Nehalem -smp 2 -m 2048 \
  -nographic -monitor none -no-reboot -nic none \
  -kernel "$kernel/bzImage" ${initrd[@]+"${initrd[@]}"} \
  -append "console=ttyS0 root=/dev/vda rw panic=-1 quiet loglevel=3 systemd.show_status=error" \
  -drive "file=$work/disk.img,format=raw,if=virtio" -device virtio-rng-pci \
  </dev/null >"$console" 2>&1 &
qemu_pid=$!
boot=$(date +%s)
# Live progress: the check lines from the console, while the VM runs (bounded: 45 min).
tail -n +1 -f --pid="$qemu_pid" "$console" 2>/dev/null | grep --line-buffered -aoE 'VM(CHECK|NOTE) .*|vm: [0-9]+ passed.*' &
tail_pid=$!
deadline=$((boot + 2700))
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ "$(date +%s)" -gt "$deadline" ]; then
    vlog "the VM did not power off within 45 min: stopping it"
    kill "$qemu_pid" 2>/dev/null || true
    break
  fi
  sleep 2
done
wait "$qemu_pid" 2>/dev/null || true
qemu_pid=""
wait "$tail_pid" 2>/dev/null || true
vm_secs=$(($(date +%s) - boot))

artifacts="$REPO/test-artifacts/vm"
mkdir -p "$artifacts"
cp "$console" "$artifacts/console.log"
debugfs -R "cat /root/vm-results.txt" "$work/disk.img" 2>/dev/null >"$artifacts/results.txt" || true
debugfs -R "cat /root/vm-journal.txt" "$work/disk.img" 2>/dev/null >"$artifacts/journal.txt" || true
echo
echo "=== virtual Pi results (test-artifacts/vm/results.txt) ==="
grep -E '^(VMCHECK|vm: |exit )' "$artifacts/results.txt" || echo "(no results: see test-artifacts/vm/console.log)"
echo "timing: preparation ${prep} s (kernel, root file system, image), VM ${vm_secs} s, total $(($(date +%s) - t0)) s"
if grep -qE '^vm: [0-9]+ passed, 0 failed' "$artifacts/results.txt"; then
  exit 0
fi
echo "Service journal: test-artifacts/vm/journal.txt; console: test-artifacts/vm/console.log" >&2
exit 1

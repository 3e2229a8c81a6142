#!/usr/bin/env bash
# Builds (or finds in the cache) the virtual Pi's kernel: Debian trixie's linux-source-6.12,
# tinyconfig plus kernel-options.txt. Debian's own kernels have neither GPIO_SIM nor GPIO_MOCKUP.
# Prints the directory holding bzImage and lib/modules/ on stdout.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KEY="$(inputs_hash "$VM_DIR/kernel-options.txt" "$VM_DIR/build-kernel.sh")"
OUT="$VM_CACHE/kernel-$KEY"
if [ -f "$OUT/bzImage" ]; then
  vlog "kernel: cached ($OUT, $(cat "$OUT/version"))"
  echo "$OUT"
  exit 0
fi
need_host_packages build-essential flex bison bc libelf-dev libssl-dev xz-utils cpio kmod
start=$(date +%s)
mkdir -p "$VM_CACHE"
work="$(mktemp -d "$VM_CACHE/kernel-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

vlog "kernel: fetching linux-source-6.12 (Debian trixie)"
trixie_apt update >/dev/null
(cd "$VM_CACHE/apt/archives" && trixie_apt download linux-source-6.12 >/dev/null)
deb="$(ls -t "$VM_CACHE"/apt/archives/linux-source-6.12_*_all.deb | head -n1)"
dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-6.12.tar.xz' | nice19 tar -xJ -C "$work"
src="$work/linux-source-6.12"

cd "$src"
nice19 make -s tinyconfig >/dev/null
while read -r line; do
  line="${line%%#*}"
  [ -n "${line// /}" ] || continue
  if [ "${line%% *}" = m ]; then
    scripts/config --module "${line#m }"
  else
    for opt in $line; do scripts/config --enable "$opt"; done
  fi
done <"$VM_DIR/kernel-options.txt"
# gzip: the notes measured xz as slower to build; the size does not matter here.
scripts/config --disable KERNEL_XZ --enable KERNEL_GZIP
nice19 make -s olddefconfig >/dev/null
# Every requested option must have survived olddefconfig (a missing dependency drops it silently).
missing=()
while read -r line; do
  line="${line%%#*}"
  [ -n "${line// /}" ] || continue
  if [ "${line%% *}" = m ]; then
    grep -q "^CONFIG_${line#m }=m" .config || missing+=("${line#m }")
  else
    for opt in $line; do grep -q "^CONFIG_$opt=y" .config || missing+=("$opt"); done
  fi
done <"$VM_DIR/kernel-options.txt"
[ ${#missing[@]} -eq 0 ] || vdie "kernel options lost by olddefconfig: ${missing[*]}"

vlog "kernel: building (nice 19, -j$(nproc); about 4 min on 2 idle cores)"
nice19 make -s -j"$(nproc)" bzImage modules >"$work/build.log" 2>&1 || { tail -n 40 "$work/build.log" >&2; vdie "kernel build failed"; }
stage="$work/out"
mkdir -p "$stage"
nice19 make -s INSTALL_MOD_PATH="$stage" modules_install >/dev/null
cp arch/x86/boot/bzImage .config "$stage/"
make -s kernelrelease >"$stage/version"
rm -f "$stage"/lib/modules/*/build "$stage"/lib/modules/*/source
rm -rf "$OUT"
mv "$stage" "$OUT"
vlog "kernel: built $(cat "$OUT/version") in $(($(date +%s) - start)) s -> $OUT"
echo "$OUT"

# Shared by tests/vm/run-all: fetch and unpack the kernel, build the initramfs, boot one test.
# Sourced; expects $build (the meson build folder) and $cache (where downloads are kept).

kernel_pattern='linux-image-6.12.*+deb12-cloud-amd64'

# Downloads (once) the newest Debian 6.12 cloud kernel and unpacks vmlinux and the modules the
# tests need into $cache/kernel. Prints the reason and returns 1 when it cannot.
prepare_kernel() {
  local kdir=$cache/kernel
  [[ -f $kdir/vmlinux && -f $kdir/modules/ublk_drv.ko ]] && return 0
  mkdir -p "$kdir/modules"
  local deb
  deb=$(ls "$cache"/linux-image-6.12.*+deb12-cloud-amd64_*.deb 2>/dev/null | sort -V | tail -1)
  if [[ -z $deb ]]; then
    local pkg
    pkg=$(apt-cache pkgnames linux-image-6.12 2>/dev/null | grep -E '^linux-image-6\.12\.[0-9]+\+deb12-cloud-amd64$' | sort -V | tail -1)
    [[ -n $pkg ]] || { echo "no package matching $kernel_pattern (apt-get update?)"; return 1; }
    (cd "$cache" && apt-get download "$pkg" >/dev/null 2>&1) || { echo "apt-get download $pkg failed"; return 1; }
    deb=$(ls "$cache"/linux-image-6.12.*+deb12-cloud-amd64_*.deb | sort -V | tail -1)
  fi
  local x=$cache/kernel-unpacked
  rm -rf "$x" && mkdir -p "$x"
  dpkg-deb -x "$deb" "$x" || { echo "dpkg-deb -x $deb failed"; return 1; }
  local vmlinuz
  vmlinuz=$(ls "$x"/boot/vmlinuz-* | head -1)
  # The bzImage wraps a zstd-compressed ELF: decompress from the zstd magic 28 b5 2f fd.
  local offset
  offset=$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$vmlinuz" | head -1 | cut -d: -f1)
  [[ -n $offset ]] || { echo "no zstd payload in $vmlinuz"; return 1; }
  tail -c +$((offset + 1)) "$vmlinuz" | zstd -dc 2>/dev/null >"$kdir/vmlinux.tmp"
  [[ $(head -c 4 "$kdir/vmlinux.tmp" | od -An -tx1 | tr -d ' ') == 7f454c46 ]] ||
    { echo "decompressed kernel is not an ELF"; return 1; }
  mv "$kdir/vmlinux.tmp" "$kdir/vmlinux"
  local m
  for m in mm/zsmalloc lib/lz4/lz4_compress lib/lz4/lz4hc_compress drivers/block/zram/zram \
           drivers/block/ublk_drv drivers/block/virtio_blk drivers/block/loop; do
    local ko
    ko=$(ls "$x"/lib/modules/*/kernel/$m.ko* 2>/dev/null | head -1)
    if [[ -z $ko ]]; then
      # Built into this kernel: nothing to load.
      continue
    fi
    case $ko in
      *.xz) xz -dc "$ko" >"$kdir/modules/$(basename "$m").ko" ;;
      *.zst) zstd -dc "$ko" >"$kdir/modules/$(basename "$m").ko" ;;
      *) cp "$ko" "$kdir/modules/$(basename "$m").ko" ;;
    esac
  done
  [[ -f $kdir/modules/ublk_drv.ko ]] || { echo "the kernel package has no ublk_drv module"; return 1; }
  basename "$deb" >"$kdir/source"
  rm -rf "$x"
}

# Copies a binary and every shared library it needs (by ldd) into the root $1.
copy_with_libs() { # root binary [dest-dir]
  local root=$1 bin=$2 dest=${3:-/bin}
  mkdir -p "$root$dest"
  # Without debug info: the initramfs must fit in the small VMs' RAM.
  strip --strip-debug -o "$root$dest/$(basename "$bin")" "$bin" 2>/dev/null || cp -L "$bin" "$root$dest/"
  local lib
  for lib in $(ldd "$bin" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    [[ -e $root$lib ]] || cp -L "$lib" "$root$lib"
  done
}

# Builds $cache/OUTPUT: busybox, the modules, the daemon, varlink-call, the test helpers and
# guest scripts, plus the extra tools named (fio alone brings ~80 MB of libraries: only the
# block-device VMs get it, the small swap VM could not spare the RAM). Rebuilt every run.
build_initramfs() { # output tools...
  local output=$1
  shift
  local root=$cache/initramfs
  rm -rf "$root" && mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,run,mnt,lib/modules,tests}
  cp /bin/busybox "$root/bin/busybox"
  "$root/bin/busybox" --list | while read -r applet; do
    [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
  done
  cp "$cache"/kernel/modules/*.ko "$root/lib/modules/"
  copy_with_libs "$root" "$build/service/trueno-zramd" /bin || return 1
  copy_with_libs "$root" "$build/lib/varlink/varlink-call" /bin || return 1
  copy_with_libs "$root" "$build/tests/vm/page-verify" /bin || return 1
  copy_with_libs "$root" "$build/tests/vm/hostile-client" /bin || return 1
  if [[ -x $build/tests/vm/thread-monitor ]]; then
    copy_with_libs "$root" "$build/tests/vm/thread-monitor" /bin || return 1
  fi
  if [[ -x $build/zramctl/trueno-zramctl ]]; then
    copy_with_libs "$root" "$build/zramctl/trueno-zramctl" /bin || return 1
  fi
  local tool
  for tool in "$@"; do
    local path
    path=$(command -v $tool) || continue
    rm -f "$root/bin/$tool"
    copy_with_libs "$root" "$path" /bin
  done
  cp "$here"/guest/*.sh "$root/tests/"
  cp "$here/guest/init" "$root/init"
  chmod +x "$root/init" "$root"/tests/*.sh
  (cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip -1 >"$cache/$output")
}

# The root file system is ramfs (rootfstype=ramfs), not the tmpfs an initramfs gets by default:
# tmpfs pages can be swapped out, and a binary swapped out to a trueno-zram device could not be
# run again to restart the daemon serving that device (on a real system binaries live on disk).
# Boots the VM for one guest test (NAME up to the first "-" names the guest script); the
# serial console goes to $cache/NAME.log.
# Usage: boot_test NAME MEMORY_MB TIMEOUT_S [extra qemu args...]
# QEMU's multi-threaded TCG sometimes lets a second vCPU run kernel text while the kernel is
# live-patching it (an int3 "Oops" in early boot, now and then; once right after the guest's
# init began, in kfree under its write to sysfs): that is the emulator, not the test, so a
# kernel that panics before the guest's init printed anything, or with an int3 Oops at any
# time, is booted again, at most twice, and says so.
boot_test() {
  local name=$1 mem=$2 limit=$3 attempt
  shift 3
  for attempt in 1 2 3; do
    timeout --kill-after=5 "$limit" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -m "$mem" -smp 2 \
      -kernel "$cache/kernel/vmlinux" -initrd "$cache/${INITRD:-initrd.gz}" \
      -append "console=ttyS0 quiet panic=-1 no_timer_check rootfstype=ramfs trueno.test=${name%%-*} trueno.hangwatch=$((limit * 3 / 4 - 30)) ${TRUENO_VM_APPEND:-}" \
      -nographic -no-reboot -monitor none -serial stdio "$@" </dev/null >"$cache/$name.log" 2>&1
    tr -d '\r' <"$cache/$name.log" >"$cache/$name.log.txt"
    if ! grep -aq 'Kernel panic' "$cache/$name.log.txt" ||
      { grep -aq 'guest: running' "$cache/$name.log.txt" && ! grep -aq 'Oops: int3' "$cache/$name.log.txt"; }; then
      return 0
    fi
    cp "$cache/$name.log.txt" "$cache/$name.boot-panic-$attempt.log.txt"
    echo "vm: $name: the guest kernel panicked before the test began, or with an int3 Oops (the emulator)" \
      "($(grep -a -m1 -o 'Oops: [^[]*' "$cache/$name.log.txt" || echo panic); log" \
      "$cache/$name.boot-panic-$attempt.log.txt); booting again" >&2
  done
}

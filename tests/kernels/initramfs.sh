#!/bin/bash
# Builds the initramfs that boots one kernel of the matrix. It contains
# busybox-static, bash, nodecond, the kernel test binaries and the programs
# in tests/kernels/tools, with the shared libraries ldd finds for them. It
# also contains tests/kernel/run.sh, the guest init, and the modules listed in
# tests/kernels/modules with their dependencies, decompressed, from the
# kernel's own package.
#
# Usage: tests/kernels/initramfs.sh KERNEL_DIR BUILD
#
# KERNEL_DIR is WORK/ID as tests/kernels/fetch.sh left it; BUILD the host
# build directory holding nodecond and the test binaries that
# tests/kernel/run.sh builds in BUILD/tests/kernel. Writes
# KERNEL_DIR/initramfs.cpio.gz.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 KERNEL_DIR BUILD" >&2
	exit 1
fi
kdir=$1 build=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
release=$(cat "$kdir/release")
kroot="$kdir/root"
staging="$kdir/initramfs"
guest=/opt/nodecond

test_bins=$(find "$build/tests/kernel" -maxdepth 1 -type f -perm -u+x 2>/dev/null | sort)
for f in /bin/busybox "$build/nodecond" ${test_bins:-"$build/tests/kernel/test_bpf_samplers"}; do
	if [ ! -x "$f" ]; then
		echo "initramfs: $f not found; install busybox-static, run make and tests/kernel/run.sh first" >&2
		exit 1
	fi
done

rm -rf "$staging"
mkdir -p "$staging"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,var,root}
mkdir -p "$staging$guest"/{build/tests/kernel,tests/kernel,stubs}

# Programs and their shared libraries, each at the path the host has it.
cp /bin/busybox "$staging/bin/busybox"
cp "$build/nodecond" "$staging$guest/build/nodecond"
# shellcheck disable=SC2086
cp $test_bins "$staging$guest/build/tests/kernel/"
cp /bin/bash "$staging/bin/bash"
# busybox sh runs its own applets before any program on PATH (losetup without
# --find --show, for example), so /bin/sh, which popen and system use, is bash.
ln -s bash "$staging/bin/sh"
tools=$(grep -v -E '^[[:space:]]*(#|$)' "$here/tools")
for tool in $tools; do
	if [ -x "$tool" ]; then
		mkdir -p "$staging$(dirname "$tool")"
		cp -L "$tool" "$staging$tool"
	else
		echo "initramfs: $tool not on the host; the tests that need it will skip" >&2
	fi
done
# shellcheck disable=SC2086
for bin in /bin/bash "$build/nodecond" $test_bins $tools; do
	[ -x "$bin" ] || continue
	ldd "$bin" | sed -n -E 's|.*=> (/[^ ]+) .*|\1|p; s|^[[:space:]]*(/[^ ]+) \(0x.*|\1|p'
done | sort -u | while read -r lib; do
	mkdir -p "$staging$(dirname "$lib")"
	cp -L "$lib" "$staging$lib"
done

# The kernel test script runs unchanged. It builds its binaries with make
# and cc before it runs them, but the guest has neither. Stubs stand in for
# them and fail when a binary they would have built is missing.
cp "$root/tests/kernel/run.sh" "$staging$guest/tests/kernel/run.sh"
cp "$here/stub" "$staging$guest/stubs/make"
cp "$here/stub" "$staging$guest/stubs/cc"
cp "$here/stub" "$staging$guest/stubs/pkg-config"
cp "$here/init" "$staging/init"
chmod 0755 "$staging/init" "$staging$guest"/stubs/* "$staging$guest/tests/kernel/run.sh"

printf 'root:x:0:0:root:/root:/bin/sh\n' > "$staging/etc/passwd"
printf 'root:x:0:\n' > "$staging/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$staging/etc/hosts"

# Modules: depmod writes modules.dep for the extracted tree, and modprobe
# --show-depends lists each module after the ones it needs, so the guest
# loads them with insmod in the order of modules.load. Compressed modules
# (.ko.xz, .ko.zst in newer Debian kernels) are decompressed here because
# busybox insmod reads only plain ones.
depmod -b "$kroot" "$release"
: > "$staging/etc/modules.load"
grep -v -E '^[[:space:]]*(#|$)' "$here/modules" | while read -r module; do
	if ! deps=$(modprobe -d "$kroot" -S "$release" --show-depends "$module" 2>&1); then
		echo "initramfs: module $module not in $release: $deps" >&2
		echo "# $module: not in this kernel" >> "$staging/etc/modules.load"
		continue
	fi
	echo "$deps" | awk '$1 == "insmod" { print $2 }' | while read -r path; do
		rel=${path#"$kroot"}
		rel=${rel#/usr}
		out="$staging${rel%.xz}"
		out=${out%.zst}
		grep -qxF "${out#"$staging"}" "$staging/etc/modules.load" && continue
		mkdir -p "$(dirname "$out")"
		case "$path" in
		*.xz) xz -dc "$path" > "$out" ;;
		*.zst) zstd -qdc "$path" > "$out" ;;
		*) cp "$path" "$out" ;;
		esac
		echo "${out#"$staging"}" >> "$staging/etc/modules.load"
	done
done

(cd "$staging" && find . | sort | cpio -o -H newc --quiet | gzip -1) > "$kdir/initramfs.cpio.gz"
rm -rf "$staging"

#!/bin/bash
# Downloads one Debian kernel package through a private apt configuration and
# extracts it with dpkg-deb; nothing is installed. The host's apt sources,
# package lists, cache and dpkg status are not read or changed: the private
# configuration has its own sources list, state and cache directories under
# WORK/apt/SUITE, and an empty dpkg status file. The mirror is the one the
# host's own Debian sources use (KERNELS_MIRROR overrides it).
#
# Usage: tests/kernels/fetch.sh WORK ID SUITE METAPACKAGE
#
# On success the kernel is in WORK/ID/root, its release string (as uname -r
# prints it) in WORK/ID/release and the package name and version in
# WORK/ID/package. Exit status 0 on success; 3 when the package cannot be
# had (the suite or package is gone, or the mirror cannot be reached), with
# the reason on the last line of standard output; 1 on any other failure.
set -u

if [ $# -ne 4 ]; then
	echo "usage: $0 WORK ID SUITE METAPACKAGE" >&2
	exit 1
fi
work=$1 id=$2 suite=$3 meta=$4
here=$(cd "$(dirname "$0")" && pwd)
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# Prints the first Debian archive URI of the host's apt sources, in either
# the one-line format or the deb822 format.
host_mirror() {
	local files=() f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || return 0
	{
		sed -n -E 's|^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([a-z]+://[^[:space:]]+).*|\2|p' "${files[@]}"
		sed -n -E 's|^URIs:[[:space:]]*||p' "${files[@]}" | tr ' ' '\n'
	} | grep -E '/debian/?$' | head -n 1
}

mirror=${KERNELS_MIRROR:-$(host_mirror)}
if [ -z "$mirror" ]; then
	echo "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d; set KERNELS_MIRROR"
	exit 3
fi
mirror=${mirror%/}

apt_dir="$work/apt/$suite"
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$work/$id"
sed -e "s|@MIRROR@|$mirror|" -e "s|@SUITE@|$suite|" -e "s|@KEYRING@|$keyring|" \
	"$here/sources.list.in" > "$apt_dir/sources.list"
: > "$apt_dir/state/status"

apt_opts=(
	-o "Dir::Etc::sourcelist=$apt_dir/sources.list"
	-o "Dir::Etc::sourceparts=/dev/null"
	-o "Dir::Etc::preferences=/dev/null"
	-o "Dir::Etc::preferencesparts=/dev/null"
	-o "Dir::State=$apt_dir/state"
	-o "Dir::State::status=$apt_dir/state/status"
	-o "Dir::Cache=$apt_dir/cache"
	-o "APT::Get::List-Cleanup=false"
	-o "APT::Architecture=amd64"
	-o "APT::Architectures::=amd64"
	-o "APT::Sandbox::User=root"
	-o "Acquire::Languages=none"
)

log="$work/$id/apt.log"
if ! apt-get "${apt_opts[@]}" update > "$log" 2>&1 || grep -q '^[EW]: Failed to fetch' "$log"; then
	echo "apt-get update of $suite from $mirror failed: $(grep -m 1 -A 1 -E '^(E|W|Err):' "$log" | tr -s ' \n' ' ' || tail -n 1 "$log")"
	exit 3
fi

# The metapackage depends on the versioned image, for example
# linux-image-6.1.0-37-cloud-amd64. The matching -unsigned package contains
# the same kernel and modules without the Secure Boot signatures.
image=$(apt-cache "${apt_opts[@]}" depends "$meta" 2>/dev/null |
	sed -n -E 's/^ *Depends: (linux-image-[^ ]+)$/\1/p' | head -n 1)
if [ -z "$image" ]; then
	echo "$meta not found in $suite at $mirror"
	exit 3
fi
if apt-cache "${apt_opts[@]}" show "$image-unsigned" > /dev/null 2>&1; then
	image="$image-unsigned"
fi
version=$(apt-cache "${apt_opts[@]}" show "$image" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1)

debs="$work/$id/deb"
deb=$(ls "$debs/${image}_"*.deb 2>/dev/null | head -n 1)
if [ -z "$deb" ] || [ "$(dpkg-deb -f "$deb" Version)" != "$version" ]; then
	rm -rf "$debs" && mkdir -p "$debs"
	if ! (cd "$debs" && apt-get "${apt_opts[@]}" download "$image" >> "$log" 2>&1); then
		echo "downloading $image $version from $suite failed: $(grep -m 1 -E '^(E|Err):' "$log" || tail -n 1 "$log")"
		exit 3
	fi
	deb=$(ls "$debs/${image}_"*.deb 2>/dev/null | head -n 1)
fi

root="$work/$id/root"
rm -rf "$root" && mkdir -p "$root"
if ! dpkg-deb -x "$deb" "$root"; then
	echo "dpkg-deb -x $deb failed" >&2
	exit 1
fi

# Debian's kernels keep modules in /lib/modules, newer ones in /usr/lib/modules.
release=$(ls "$root/lib/modules" "$root/usr/lib/modules" 2>/dev/null | grep -E '^[0-9]' | head -n 1)
if [ -z "$release" ] || ! ls "$root/boot/vmlinuz-$release" > /dev/null 2>&1; then
	echo "$deb contains no kernel image and modules directory" >&2
	exit 1
fi
echo "$release" > "$work/$id/release"
echo "$image $version" > "$work/$id/package"
echo "fetched $image $version"

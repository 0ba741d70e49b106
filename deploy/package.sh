#!/usr/bin/env bash
# Build the Lambda deployment package (make lambda-zip):
#
#   deploy/package.sh BINARY ZIP
#
# The zip's root holds "bootstrap" (BINARY, stripped: Lambda's provided.al2023
# runtime executes it) and lib/ with every shared library BINARY loads, direct
# (libpq, libcurl, OpenSSL) or not, except glibc's own: Amazon Linux 2023 ships
# glibc 2.34 and a copy built for another glibc must never be loaded over the
# system one. (libexpat is in BINARY itself: client/client.mk says why.) BINARY must find lib/ by itself (client.mk links
# it with DT_RPATH=$ORIGIN/lib); this script checks that it does, with the
# host's library directories in the way.
set -euo pipefail

if [ "$#" -ne 2 ]; then
	echo "usage: $0 BINARY ZIP" >&2
	exit 2
fi
binary=$1
zip_path=$2

say() { printf 'lambda-zip: %s\n' "$*"; }
die() { printf 'lambda-zip: %s\n' "$*" >&2; exit 1; }

for tool in ldd strip zip readelf; do
	command -v "$tool" >/dev/null || die "\"$tool\" not found (run \"make deps\")"
done
[ -x "$binary" ] || die "\"$binary\" is not an executable"
dynamic=$(readelf -d "$binary")
# shellcheck disable=SC2016 # a literal $ORIGIN, which ld.so expands
grep -q '(RPATH).*\[\$ORIGIN/lib\]' <<<"$dynamic" ||
	die "\"$binary\" has no DT_RPATH \$ORIGIN/lib; build it with \"make lambda-zip\""

# glibc's libraries, by soname: Amazon Linux provides them, in its version.
is_glibc() {
	case "$1" in
		linux-vdso.so.* | ld-linux*.so.* | libc.so.* | libm.so.* | libmvec.so.* | \
			libpthread.so.* | libdl.so.* | librt.so.* | libresolv.so.* | \
			libutil.so.* | libanl.so.* | libnsl.so.1 | libnss_*.so.* | \
			libBrokenLocale.so.* | libthread_db.so.* | libc_malloc_debug.so.*)
			return 0 ;;
	esac
	return 1
}

stage=$(mktemp -d "${TMPDIR:-/tmp}/pg_rotate-lambda-XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/lib"

# ldd lists the whole tree (libpq -> gssapi, ldap; libcurl -> nghttp2, ...),
# one "soname => path" per library. Captured first so that a failing ldd
# stops the script (set -e does not see into a process substitution).
tree=$(ldd "$binary")
bundled=()
while read -r soname arrow path _; do
	[ "$arrow" = "=>" ] || continue
	is_glibc "$soname" && continue
	if [ "$path" = "not" ] || [ ! -f "$path" ]; then
		die "library \"$soname\" of \"$binary\" not found on this machine"
	fi
	# Named by soname, as the loader asks for it; -L copies the file, not a link.
	cp -L "$path" "$stage/lib/$soname"
	chmod 0644 "$stage/lib/$soname"
	bundled+=("$soname")
done <<<"$tree"
[ "${#bundled[@]}" -gt 0 ] || die "ldd found no library to bundle for \"$binary\""

install -m 0755 "$binary" "$stage/bootstrap"
strip --strip-all "$stage/bootstrap"

# Every library must now come from lib/, even with the host's directories
# first in LD_LIBRARY_PATH, as Lambda's /lib64:/usr/lib64 are.
host_dirs=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64:/lib:/usr/lib
tree=$(env -i LD_LIBRARY_PATH="$host_dirs" ldd "$stage/bootstrap")
while read -r soname arrow path _; do
	[ "$arrow" = "=>" ] || continue
	is_glibc "$soname" && continue
	case "$path" in
		"$stage/lib/"*) ;;
		*) die "\"$soname\" would be loaded from \"$path\", not from the package's lib/" ;;
	esac
done <<<"$tree"

# zip keeps the Unix modes (bootstrap must be executable); -X drops the
# extra fields that only carry times and owners. Fixed times and a sorted
# list make the same inputs give the same zip, so "sam deploy" (which names
# the upload by its hash) uploads again only when something changed.
rm -f "$zip_path"
zip_abs=$(cd "$(dirname "$zip_path")" && pwd)/$(basename "$zip_path")
(
	cd "$stage"
	find . -exec touch -h -d '2000-01-01 00:00:00 UTC' {} +
	find lib -type f | LC_ALL=C sort | TZ=UTC zip -q -X -9 "$zip_abs" bootstrap lib/ -@
)

size=$(stat -c %s "$zip_path")
say "$zip_path: $((size / 1024)) KiB, bootstrap and ${#bundled[@]} libraries in lib/:"
say "  ${bundled[*]}"

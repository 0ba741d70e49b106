#!/usr/bin/env bash
# Install what pg_rotate's build and tests need, on Debian or Ubuntu.
# Skips what is present; needs root (or sudo) only when something is missing.
set -euo pipefail

# debhelper, lintian and postgresql-server-dev-all (pg_buildext's debhelper
# sequences) build the Debian packages (make deb, test/test_deb.py); flex and
# bison, pg_tle's release source (the pg_tle tests, test/pgtle.py).
BASE_PACKAGES=(gcc make pkg-config openssl zip unzip time
	postgresql postgresql-contrib libpq-dev libkrb5-dev
	libcurl4-openssl-dev libssl-dev libexpat1-dev libcmocka-dev
	python3-pytest python3-psycopg2 python3-boto3 python3-yaml awscli clang git
	debhelper lintian postgresql-server-dev-all
	flex bison)
MOTO_VENV="${PG_ROTATE_MOTO_VENV:-$HOME/.local/share/pg_rotate/moto}"

say() { printf 'make deps: %s\n' "$*"; }

missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
			printf '%s\n' "$p"
	done
}

# How to become root: nothing, sudo without a password, or not at all.
if [ "$(id -u)" -eq 0 ]; then
	as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	as_root=(sudo)
else
	as_root=(false)
fi

apt_updated=0
install_packages() {
	local missing
	mapfile -t missing < <(missing_packages "$@")
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "${as_root[0]:-}" = false ]; then
		say "missing packages: ${missing[*]}; installing them needs root."
		say "Run this first, then run make again:"
		printf '\n    sudo apt-get update && sudo apt-get install -y %s\n\n' "${missing[*]}"
		exit 1
	fi
	say "installing ${missing[*]}"
	if [ "$apt_updated" -eq 0 ]; then
		"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
		apt_updated=1
	fi
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}"
}

if ! command -v dpkg-query >/dev/null || ! command -v apt-get >/dev/null; then
	say "this script knows Debian and Ubuntu only; install by hand the equivalents of:"
	say "${BASE_PACKAGES[*]} postgresql-server-dev-<major> and moto[server] (pip)"
	exit 1
fi

install_packages "${BASE_PACKAGES[@]}"

# The server headers must match the server's major version.
major=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)
if [ -z "$major" ]; then
	say "no PostgreSQL server found under /usr/lib/postgresql after installing it"
	exit 1
fi
install_packages "postgresql-server-dev-$major"

# The fuzz targets need libFuzzer's runtime, a recommendation of clang that
# --no-install-recommends skips (libclang-rt-<major>-dev on Debian 12).
if [ ! -e "$(clang -print-file-name=libclang_rt.fuzzer-$(uname -m).a)" ]; then
	install_packages "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
fi

# moto_server: on PATH on our machines; elsewhere into a private virtualenv.
if ! command -v moto_server >/dev/null && [ ! -x "$MOTO_VENV/bin/moto_server" ]; then
	install_packages python3-venv
	say "installing moto[server] into $MOTO_VENV"
	python3 -m venv "$MOTO_VENV"
	"$MOTO_VENV/bin/pip" install --quiet "moto[server]" || {
		say "could not install moto[server] with pip; install it by hand:"
		say "    python3 -m pip install 'moto[server]'   (moto_server must end up on PATH)"
		exit 1
	}
fi

# cfn-lint (test_deploy.py lints deploy/template.yaml): on PATH on our
# machines; elsewhere into the same private virtualenv as moto_server.
if ! command -v cfn-lint >/dev/null && [ ! -x "$MOTO_VENV/bin/cfn-lint" ]; then
	install_packages python3-venv
	[ -x "$MOTO_VENV/bin/pip" ] || python3 -m venv "$MOTO_VENV"
	say "installing cfn-lint into $MOTO_VENV"
	"$MOTO_VENV/bin/pip" install --quiet cfn-lint || {
		say "could not install cfn-lint with pip; install it by hand:"
		say "    python3 -m pip install cfn-lint   (cfn-lint must end up on PATH)"
		exit 1
	}
fi
say "all dependencies present (PostgreSQL $major)"

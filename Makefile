# pg_rotate: top-level Makefile
#
# Builds both halves: the extension (extension/Makefile, PGXS, which also
# builds alone: "make -C extension") and the client program (client/,
# client/client.mk, which needs libpq, libcurl, OpenSSL and libexpat).
#
# Driver goals (deps, check, demo, bench, ...) run before pg_config may even
# exist on a fresh machine; they install the dependencies first and call
# make again.  The extension's goals need PostgreSQL's server headers only
# (extension/Makefile checks for them), never the client's libraries: a
# Debian package test or a PGXN install runs them without libcurl or libexpat.

PG_CONFIG ?= pg_config
SANITIZE ?= 0
prefix ?= /usr/local
bindir ?= $(prefix)/bin
INSTALL ?= install

DRIVER_GOALS := deps build-install check demo bench stress clean-test help dist deb
EXTENSION_GOALS := extension install-extension installcheck pg_tle

.PHONY: all extension install install-extension installcheck pg_tle clean

# The release's version, set once, in META.json ("version"): the PGXN
# distribution's name, the client's "pg_rotate --version" (client.mk passes
# it to the compiler) and, as X.Y, the extension's default_version in
# extension/pg_rotate.control (test/test_meta.py checks that they agree).
DIST_VERSION := $(shell sed -n 's/^   "version": *"\([^"]*\)".*/\1/p' META.json)

ifneq ($(filter-out $(DRIVER_GOALS) $(EXTENSION_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(shell $(PG_CONFIG) --pgxs 2>/dev/null),)
$(error pg_config not found: run "make deps" first (as root), or set PG_CONFIG=/path/to/pg_config)
endif
include client/client.mk
endif

all: extension client

extension:
	$(MAKE) -C extension PG_CONFIG='$(PG_CONFIG)'

install: install-extension install-client

install-extension: extension
	$(MAKE) -C extension PG_CONFIG='$(PG_CONFIG)' install

installcheck:
	$(MAKE) -C extension PG_CONFIG='$(PG_CONFIG)' installcheck

# make pg_tle: the installer and uninstaller of the SQL-only flavour for
# pg_tle (Amazon RDS and Aurora), in build/; see README.md.
pg_tle:
	$(MAKE) -C extension PG_CONFIG='$(PG_CONFIG)' pg_tle PGTLE_DIR='$(CURDIR)/build'

clean: clean-client clean-test
	$(MAKE) -C extension PG_CONFIG='$(PG_CONFIG)' clean
	rm -rf build $(DIST).zip

# ----- distributions ---------------------------------------------------------
# make dist: the PGXN distribution, $(DIST).zip, by git archive of HEAD (what
# is committed, nothing else); its version is META.json's.  From it,
# "make -C extension && make -C extension install" builds the extension.
DIST = pg_rotate-$(DIST_VERSION)
DISTDIR ?= .

.PHONY: dist deb
dist:
	@test -n '$(DIST_VERSION)' || { echo 'make dist: no top-level "version" in META.json' >&2; exit 1; }
	@git diff --quiet HEAD -- || echo 'make dist: uncommitted changes are not in the archive (it is made from HEAD)' >&2
	git archive --format=zip --prefix='$(DIST)/' -o '$(DISTDIR)/$(DIST).zip' HEAD

# make deb: the Debian packages (debian/), by dpkg-buildpackage in a copy of
# the checkout's files (tracked and not ignored, as they are now) under
# $(DEB_DIR)/, where the .deb files land: nothing is written beside the
# checkout.  debian/control is first made for this machine's PostgreSQL
# versions (pg_buildext updatecontrol, in the copy); lintian then reports,
# and fails the goal on errors.  The packages are the same whoever calls:
# this make's flags, SANITIZE, PG_CONFIG and the libpq settings (the
# build-time pg_regress run starts its own cluster) do not reach the build.
# DEB_BUILD_OPTIONS=nocheck skips the build-time pg_regress run.
DEB_DIR ?= build/deb
DEB_SRC = $(DEB_DIR)/pg-rotate-$(DIST_VERSION)

deb:
	rm -rf '$(DEB_DIR)'
	mkdir -p '$(DEB_SRC)'
	git ls-files -z --cached --others --exclude-standard | \
		tar --null --no-recursion --ignore-failed-read -T - -cf - | tar -xf - -C '$(DEB_SRC)'
	cd '$(DEB_SRC)' && pg_buildext updatecontrol && \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE -u PG_CONFIG \
			-u PGHOST -u PGPORT -u PGUSER -u PGDATABASE -u PGPASSWORD \
		dpkg-buildpackage -us -uc -b
	lintian --fail-on error '$(DEB_DIR)'/*.changes

# ----- driver goals --------------------------------------------------------
.PHONY: deps build-install check demo bench stress help clean-test

help:
	@echo "make            build the extension and the pg_rotate client"
	@echo "make install    install both (needs write access to PostgreSQL's directories)"
	@echo "make -C extension [install]   the extension alone (PGXS; PG_CONFIG honoured)"
	@echo "make deps       install what the build and the tests need (Debian/Ubuntu)"
	@echo "make check      deps, build, install, then every test; SANITIZE=1 for ASan/UBSan"
	@echo "make demo       rotate a password end to end on a throwaway cluster"
	@echo "make bench      print the benchmark figures"
	@echo "make stress     the reliability suite at full size (kills, faults, races, leaks)"
	@echo "make fuzz       fuzz the client's parsers (FUZZ_SECONDS per target)"
	@echo "make pg_tle     the pg_tle installer for Amazon RDS and Aurora"
	@echo "make dist       the PGXN distribution pg_rotate-VERSION.zip (git archive of HEAD)"
	@echo "make deb        Debian packages in build/deb/ (dpkg-buildpackage, lintian)"

deps:
	@bash test/deps.sh

# Build and install as the drivers need it; SANITIZE=1 is passed through.
build-install: deps
	$(MAKE) -s all
	@bash test/as-root.sh $(MAKE) -s install

# Unit tests first (no server needed), then everything that needs servers.
check: build-install
	$(MAKE) unit
	$(MAKE) -s fuzz-short
	@bash test/run-checks.sh

demo: build-install
	@bash test/demo.sh

bench: build-install
	@bash bench/run.sh

# The reliability tests at full size; make check runs them smaller.
stress: build-install
	cd test && PG_ROTATE_LONG_TESTS=1 /usr/bin/python3 -m pytest -q test_reliability_crash.py \
		test_reliability_concurrency.py test_reliability_faults.py test_reliability_leaks.py

clean-test:
	rm -rf test/.pytest_cache test/__pycache__ test/harness/__pycache__

# pg_rotate: top-level Makefile
#
# The extension is built with PGXS (make, make install, make installcheck).
# The client program lives in client/ and is built by client/client.mk.
#
# Driver goals (deps, check, demo, bench, ...) run before pg_config may even
# exist on a fresh machine, so PGXS is only included for the goals that need it;
# the drivers call make again once the dependencies are in place.

PG_CONFIG ?= pg_config
SANITIZE ?= 0

EXTNAME = pg_rotate
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" extension/$(EXTNAME).control)

DRIVER_GOALS := deps build-install check demo bench clean-test help

# ----- the extension (PGXS) -----------------------------------------------
MODULE_big = $(EXTNAME)
OBJS := $(patsubst %.c,%.o,$(sort $(wildcard extension/*.c)))
# MODULEDIR instead of EXTENSION: it installs the control file from extension/
MODULEDIR = extension
DATA = extension/$(EXTNAME).control $(sort $(wildcard extension/$(EXTNAME)--*.sql))
PG_CPPFLAGS = -Iextension
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wno-sign-compare -Wno-cast-function-type
REGRESS := $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=test/regress-out --load-extension=$(EXTNAME) \
	--dbname=contrib_regression
EXTRA_CLEAN = test/regress-out client/pg_rotate client/pg_rotate-testhooks client/testhooks \
	client/*.o client/*.d client/libpgrotate.a client/.build-flags \
	test/unit/*.o $(UNIT_TESTS) lambda.zip

ifneq ($(filter-out $(DRIVER_GOALS),$(or $(MAKECMDGOALS),all)),)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifeq ($(PGXS),)
$(error pg_config not found: run "make deps" first (as root), or set PG_CONFIG=/path/to/pg_config)
endif
include $(PGXS)
include client/client.mk
all: client
install: install-client
endif

# ----- driver goals --------------------------------------------------------
.PHONY: deps build-install check demo bench help clean-test

help:
	@echo "make            build the extension and the pg_rotate client"
	@echo "make install    install both (needs write access to PostgreSQL's directories)"
	@echo "make deps       install what the build and the tests need (Debian/Ubuntu)"
	@echo "make check      deps, build, install, then every test; SANITIZE=1 for ASan/UBSan"
	@echo "make demo       rotate a password end to end on a throwaway cluster"
	@echo "make bench      print the benchmark figures"

deps:
	@bash test/deps.sh

# Build and install as the drivers need it; SANITIZE=1 is passed through.
build-install: deps
	$(MAKE) -s all
	@bash test/as-root.sh $(MAKE) -s install

# Unit tests first (no server needed), then everything that needs servers.
# Defined only when PGXS is not included, as PGXS has its own "check".
ifeq ($(PGXS),)
check: build-install
	$(MAKE) unit
	@bash test/run-checks.sh
endif

demo: build-install
	@bash test/demo.sh

bench: build-install
	@bash bench/run.sh

clean-test:
	rm -rf test/regress-out test/.pytest_cache test/__pycache__ test/harness/__pycache__

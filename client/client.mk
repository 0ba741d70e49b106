# client/client.mk: the pg_rotate program and its C unit tests.
# Included by the top-level Makefile; its own flags (C11, no server
# headers): PGXS is the extension's alone (extension/Makefile).

CLIENT_BIN = client/pg_rotate
CLIENT_LIB = client/libpgrotate.a
CLIENT_SRCS = $(sort $(wildcard client/*.c))
CLIENT_LIB_SRCS = $(filter-out client/main.c,$(CLIENT_SRCS))
CLIENT_LIB_OBJS = $(CLIENT_LIB_SRCS:.c=.o)

CLIENT_PKGS = libcurl expat
# The program's version is the release's (DIST_VERSION, from META.json).
CLIENT_CFLAGS = -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wformat=2 -Wno-format-truncation \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -fstack-protector-strong \
	-D_FORTIFY_SOURCE=2 -MMD -MP -Iclient -DPGR_VERSION=\"$(DIST_VERSION)\" \
	-I$(shell $(PG_CONFIG) --includedir) $(shell pkg-config --cflags $(CLIENT_PKGS))
CLIENT_LDLIBS = -L$(shell $(PG_CONFIG) --libdir) -lpq \
	$(shell pkg-config --libs $(CLIENT_PKGS)) -lcrypto -lpthread

ifeq ($(SANITIZE),1)
CLIENT_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
CLIENT_CFLAGS += $(CLIENT_SAN) -O1
CLIENT_LDFLAGS += $(CLIENT_SAN)
endif

# Objects depend on a stamp of the flags, so "make SANITIZE=1" after a plain
# build (or the other way round) recompiles everything.
CLIENT_FLAGS_STAMP = client/.build-flags
CLIENT_FLAGS_NOW = $(CC) $(CLIENT_CFLAGS) $(CLIENT_LDFLAGS)
ifneq ($(CLIENT_FLAGS_NOW),$(shell cat $(CLIENT_FLAGS_STAMP) 2>/dev/null))
$(shell echo '$(CLIENT_FLAGS_NOW)' > $(CLIENT_FLAGS_STAMP))
endif

UNIT_SRCS = $(sort $(wildcard test/unit/test_*.c))
UNIT_TESTS = $(UNIT_SRCS:.c=)

# Test builds see what the client's code frees (test/unit/freed_memory.h):
# its allocation calls are wrapped at link time, never in the shipped program.
FREED_MEMORY = test/unit/freed_memory
FREED_WRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free \
	-Wl,--wrap=strdup,--wrap=strndup
# What the unit tests share (test/unit/*.h that are no test of their own).
UNIT_SUPPORT = $(FREED_MEMORY).o test/unit/offline.o test/unit/scripted.o

# The same program with the crash and failure points of testpoint.h live,
# for the tests only; never installed.
TESTHOOKS_BIN = client/pg_rotate-testhooks
TESTHOOKS_OBJS = $(patsubst client/%.c,client/testhooks/%.o,$(CLIENT_SRCS))

.PHONY: client install-client unit

client: $(CLIENT_BIN) $(TESTHOOKS_BIN)

client/testhooks/%.o: client/%.c $(CLIENT_FLAGS_STAMP)
	@mkdir -p client/testhooks
	$(CC) $(CLIENT_CFLAGS) -DPGR_TEST_HOOKS -c -o $@ $<

client/testhooks/freed_memory.o: $(FREED_MEMORY).c $(CLIENT_FLAGS_STAMP)
	@mkdir -p client/testhooks
	$(CC) $(CLIENT_CFLAGS) -c -o $@ $<

$(TESTHOOKS_BIN): $(TESTHOOKS_OBJS) client/testhooks/freed_memory.o
	$(CC) $(CLIENT_LDFLAGS) $(FREED_WRAP) -o $@ $^ $(CLIENT_LDLIBS)

client/%.o: client/%.c $(CLIENT_FLAGS_STAMP)
	$(CC) $(CLIENT_CFLAGS) -c -o $@ $<

$(CLIENT_LIB): $(CLIENT_LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(CLIENT_BIN): client/main.o $(CLIENT_LIB)
	$(CC) $(CLIENT_LDFLAGS) -o $@ $^ $(CLIENT_LDLIBS)

$(UNIT_SUPPORT): %.o: %.c $(CLIENT_FLAGS_STAMP)
	$(CC) $(CLIENT_CFLAGS) -c -o $@ $<

test/unit/%: test/unit/%.c $(UNIT_SUPPORT) $(CLIENT_LIB) $(CLIENT_FLAGS_STAMP)
	$(CC) $(CLIENT_CFLAGS) $(CLIENT_LDFLAGS) $(FREED_WRAP) -o $@ $< $(UNIT_SUPPORT) \
		$(CLIENT_LIB) -lcmocka $(CLIENT_LDLIBS)

# Build and run every C unit test; stops at the first failing program.
unit: $(UNIT_TESTS)
	@for t in $(UNIT_TESTS); do echo "== $$t"; ./$$t || exit 1; done

# The program, and its bash completion where bash-completion looks for it
# (under $(prefix)/share, which its XDG_DATA_DIRS search covers).
datadir ?= $(prefix)/share
bashcompdir ?= $(datadir)/bash-completion/completions

install-client: $(CLIENT_BIN)
	$(INSTALL) -d '$(DESTDIR)$(bindir)' '$(DESTDIR)$(bashcompdir)'
	$(INSTALL) -m 755 $(CLIENT_BIN) '$(DESTDIR)$(bindir)/pg_rotate'
	$(INSTALL) -m 644 completion/pg_rotate '$(DESTDIR)$(bashcompdir)/pg_rotate'

CLIENT_CLEAN = client/pg_rotate client/pg_rotate-testhooks client/testhooks client/*.o \
	client/*.d client/libpgrotate.a client/.build-flags test/unit/*.o test/unit/*.d \
	$(UNIT_TESTS) lambda.zip

.PHONY: clean-client
clean-client:
	rm -rf $(CLIENT_CLEAN)

-include $(CLIENT_SRCS:.c=.d) $(UNIT_SRCS:.c=.d) $(TESTHOOKS_OBJS:.o=.d) $(UNIT_SUPPORT:.o=.d)

# ----- the Lambda package ----------------------------------------------------
# The bootstrap is built from the same sources into build/lambda/, always
# without the sanitizers (whatever SANITIZE says, so "make lambda-zip" never
# disturbs the objects of the build under test). It is linked with DT_RPATH
# (not RUNPATH, hence --disable-new-dtags) = $ORIGIN/lib: the loader then takes
# every library of the tree, direct or not, from the zip's lib/, and before
# LD_LIBRARY_PATH, which Lambda starts with the system's /lib64:/usr/lib64.
#
# libexpat is linked statically: Debian 12's libexpat.so.1 needs glibc 2.36
# (arc4random_buf), Amazon Linux 2023 has 2.34, and deploy/glibc_compat.c
# answers that one call in the bootstrap instead.
LAMBDA_DIR = build/lambda
LAMBDA_BOOTSTRAP = $(LAMBDA_DIR)/bootstrap
LAMBDA_ZIP = lambda.zip
LAMBDA_OBJS = $(patsubst client/%.c,$(LAMBDA_DIR)/%.o,$(CLIENT_SRCS)) \
	$(LAMBDA_DIR)/glibc_compat.o
LAMBDA_CFLAGS = $(filter-out $(CLIENT_SAN) -O1,$(CLIENT_CFLAGS))
LAMBDA_LDFLAGS = $(filter-out $(CLIENT_SAN),$(CLIENT_LDFLAGS)) \
	-Wl,--disable-new-dtags -Wl,-rpath,'$$ORIGIN/lib'
LAMBDA_LDLIBS = $(filter-out -lexpat,$(CLIENT_LDLIBS)) \
	$(shell pkg-config --variable=libdir expat)/libexpat.a

.PHONY: lambda-zip

$(LAMBDA_DIR)/%.o: client/%.c client/client.mk
	@mkdir -p $(@D)
	$(CC) $(LAMBDA_CFLAGS) -c -o $@ $<

$(LAMBDA_DIR)/glibc_compat.o: deploy/glibc_compat.c client/client.mk
	@mkdir -p $(@D)
	$(CC) $(LAMBDA_CFLAGS) -c -o $@ $<

$(LAMBDA_BOOTSTRAP): $(LAMBDA_OBJS)
	$(CC) $(LAMBDA_LDFLAGS) -o $@ $^ $(LAMBDA_LDLIBS)

lambda-zip: $(LAMBDA_BOOTSTRAP)
	bash deploy/package.sh $(LAMBDA_BOOTSTRAP) $(LAMBDA_ZIP)

CLIENT_CLEAN += $(LAMBDA_DIR)

-include $(LAMBDA_OBJS:.o=.d)

-include fuzz/fuzz.mk

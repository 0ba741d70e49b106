# fuzz/fuzz.mk: libFuzzer targets for the client's parsers and encoders.
# Included by client/client.mk. Needs clang and libFuzzer's runtime
# (Debian: clang, libclang-rt-<version>-dev).
#
# The client's sources are compiled a second time with clang into
# fuzz/build/ (AddressSanitizer, UBSan, libFuzzer coverage), so the normal
# gcc build in client/ is never touched.
#
#   make fuzz-build     build every target into fuzz/build/
#   make fuzz-short     replay every corpus file, then fuzz each target for
#                       FUZZ_SHORT_SECONDS (5); part of "make check"
#   make fuzz           fuzz each target for FUZZ_SECONDS (300)
#
# A crash, a leak, a sanitizer report, a timeout or a failed property fails
# the run; libFuzzer leaves the input in fuzz/build/artifacts/<target>/.
# New inputs found go to fuzz/build/work/<target>/, never into the
# checked-in fuzz/corpus/<target>/ (copy a regression seed there by hand).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 300
FUZZ_SHORT_SECONDS ?= 5
FUZZ_RSS_MB ?= 1024
FUZZ_TARGETS = fuzz_secret fuzz_sm_response fuzz_sigv4 fuzz_aws_config \
	fuzz_scram fuzz_log fuzz_json fuzz_xml
FUZZ_DIR = fuzz/build
FUZZ_BINS = $(addprefix $(FUZZ_DIR)/,$(FUZZ_TARGETS))
FUZZ_LIB = $(FUZZ_DIR)/libpgrotate-fuzz.a
FUZZ_LIB_OBJS = $(patsubst client/%.c,$(FUZZ_DIR)/client/%.o,$(CLIENT_LIB_SRCS))

FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-missing-field-initializers \
	$(FUZZ_SAN) -MMD -MP -Iclient \
	-I$(shell $(PG_CONFIG) --includedir) $(shell pkg-config --cflags $(CLIENT_PKGS))

# each run: no more than FUZZ_RSS_MB, no input slower than 10 s
FUZZ_RUN_OPTS = -rss_limit_mb=$(FUZZ_RSS_MB) -timeout=10 -print_final_stats=1

.PHONY: fuzz-build fuzz-short fuzz

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/client/%.o: client/%.c fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BINS:=.o): $(FUZZ_DIR)/%.o: fuzz/%.c fuzz/fuzz.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BINS): $(FUZZ_DIR)/%: $(FUZZ_DIR)/%.o $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(CLIENT_LDLIBS)

# fuzz_run TARGET SECONDS: replay the corpus, then fuzz; prints the count of
# executions and fails on any finding.
define fuzz_run
	@set -e; t=$(1); bin=$(FUZZ_DIR)/$$t; \
	art=$(FUZZ_DIR)/artifacts/$$t; work=$(FUZZ_DIR)/work/$$t; \
	mkdir -p $$art $$work; rm -f $$art/*; \
	seeds=$$(find fuzz/corpus/$$t -type f | sort); \
	echo "== $$t: replaying $$(echo "$$seeds" | grep -c .) corpus files"; \
	ASAN_OPTIONS=detect_leaks=1 $$bin -artifact_prefix=$$art/ $(FUZZ_RUN_OPTS) \
		$$seeds > $(FUZZ_DIR)/$$t.replay.log 2>&1 || \
		{ tail -n 60 $(FUZZ_DIR)/$$t.replay.log; echo "fuzz $$t: corpus replay FAILED"; exit 1; }; \
	ASAN_OPTIONS=detect_leaks=1 $$bin -artifact_prefix=$$art/ $(FUZZ_RUN_OPTS) \
		-max_total_time=$(2) $$work fuzz/corpus/$$t > $(FUZZ_DIR)/$$t.log 2>&1 || \
		{ tail -n 60 $(FUZZ_DIR)/$$t.log; echo "fuzz $$t: FAILED, input in $$art/"; exit 1; }; \
	if [ -n "$$(ls -A $$art)" ]; then echo "fuzz $$t: findings in $$art/"; exit 1; fi; \
	echo "fuzz $$t: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$$t.log) executions in $(2) s, no findings"

endef

fuzz-short: fuzz-build
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t),$(FUZZ_SHORT_SECONDS)))

fuzz: fuzz-build
	$(foreach t,$(FUZZ_TARGETS),$(call fuzz_run,$(t),$(FUZZ_SECONDS)))

CLIENT_CLEAN += $(FUZZ_DIR)

-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZ_BINS:=.d)

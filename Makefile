# nodecond: build, test and run.
#
#   make            build build/nodecond (BPF objects and skeletons included)
#   make test       build and run every test (unit, then kernel and end-to-end)
#   make test-unit  cmocka unit tests only; no root needed
#   make test-kernels  kernel tests on the host and on Debian kernels under qemu
#   make asan       unit tests under AddressSanitizer and UBSan
#   make run        build and start the agent in the foreground (local mode)
#   make deps       install the Debian packages the build and tests need

CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
BUILD    ?= build
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

# pkg-config name -> Debian package that provides it.
PKGS := libbpf:libbpf-dev libelf:libelf-dev zlib:zlib1g-dev \
	libcurl:libcurl4-openssl-dev libcjson:libcjson-dev cmocka:libcmocka-dev \
	yaml-0.1:libyaml-dev libmicrohttpd:libmicrohttpd-dev libcrypto:libssl-dev

DEB_PACKAGES := $(foreach p,$(PKGS),$(word 2,$(subst :, ,$(p)))) \
	pkg-config clang llvm bpftool iproute2 libcap2-bin procps curl \
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd jq e2fsprogs \
	python3-kubernetes openssl prometheus valgrind \
	nftables libbpf-tools util-linux

ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
MISSING := $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(word 1,$(subst :, ,$(p))) && echo y),,$(word 2,$(subst :, ,$(p)))))
ifneq ($(strip $(MISSING)),)
$(error missing build dependencies; install them with: apt-get install $(MISSING)  (or run: make deps))
endif
endif

PC_LIBS  := libbpf libelf zlib libcurl libcjson yaml-0.1 libmicrohttpd libcrypto
# Messages and details are bounded buffers that truncate on purpose.
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wmissing-prototypes \
	$(shell $(CC) -Werror -Wno-format-truncation -E -x c /dev/null >/dev/null 2>&1 && echo -Wno-format-truncation)
# CFLAGS and LDFLAGS are the caller's (optimisation, sanitizers, coverage);
# the project's own flags are added to them here.
CFLAGS   ?= -O2 -g
NC_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -I$(BUILD) \
	$(shell pkg-config --cflags $(PC_LIBS) 2>/dev/null) $(CFLAGS)
NC_LIBS   = $(shell pkg-config --libs $(PC_LIBS) 2>/dev/null) -lm $(LDLIBS)

BPF_SRCS   := $(wildcard bpf/*.bpf.c)
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_SKELS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))

# conditions/ and taints/ are pure logic: they link against libc alone.
LOGIC_SRCS := $(wildcard conditions/*.c taints/*.c)
LOGIC_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LOGIC_SRCS))
DAEMON_SRCS := $(filter-out daemon/main.c,$(wildcard daemon/*.c))
DAEMON_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(DAEMON_SRCS))

SUITE      ?= unit
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# Commands are shown as one short line each; `make V=1` shows them whole.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-8s %s\n' $(1) $(2)
endif

.PHONY: all test test-unit test-kernel test-kernels test-e2e test-integration asan coverage run deps clean install
.DELETE_ON_ERROR:
.SECONDARY:

all: $(BUILD)/nodecond

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/vmlinux.h $(wildcard bpf/*.h)
	@mkdir -p $(@D)
	$(call say,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) -Ibpf -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call say,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# Every daemon object may include any skeleton, so build them all first.
$(DAEMON_OBJS) $(BUILD)/daemon/main.o: | $(BPF_SKELS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(NC_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libnodecond-logic.a: $(LOGIC_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libnodecond-daemon.a: $(DAEMON_OBJS)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/nodecond: $(BUILD)/daemon/main.o $(BUILD)/libnodecond-daemon.a $(BUILD)/libnodecond-logic.a
	$(call say,LD,$@)
	$(Q)$(CC) $(NC_CFLAGS) $(LDFLAGS) -o $@ $^ $(NC_LIBS)

# Unit tests link the pure libraries and, when they need it, the daemon one.
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libnodecond-daemon.a $(BUILD)/libnodecond-logic.a
	@mkdir -p $(@D)
	$(call say,LD,$@)
	$(Q)$(CC) $(NC_CFLAGS) $(LDFLAGS) -Itests -o $@ $^ $(NC_LIBS) $(shell pkg-config --libs cmocka)

test-unit: $(UNIT_BINS)
	@SUITE=$(SUITE) tests/run-unit.sh $(UNIT_BINS)

test-kernel: $(BUILD)/nodecond
	@tests/kernel/run.sh $(BUILD)/nodecond

test-e2e: $(BUILD)/nodecond
	@tests/e2e/run.sh $(BUILD)/nodecond

# The agent against the test API server in tests/apiserver; no root needed.
test-integration: $(BUILD)/nodecond
	@tests/integration/run.sh $(BUILD)/nodecond

# Boots Debian's 5.10, 6.1 and 6.12 kernels under qemu; see docs/kernels.md.
test-kernels: $(BUILD)/nodecond
	@tests/kernels/run.sh $(BUILD)

test: all
	@tests/run-all.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan CC=clang \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
		LDFLAGS="-fsanitize=address,undefined" SUITE=unit-asan test-unit

coverage:
	@find build-cov -name '*.gcda' -delete 2>/dev/null || true
	$(MAKE) BUILD=build-cov CFLAGS="-O0 -g --coverage" LDFLAGS="--coverage" test-unit
	@tests/coverage.sh build-cov

run: all
	$(BUILD)/nodecond run $(RUN_ARGS)

deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

install: all
	install -D -m 0755 $(BUILD)/nodecond $(DESTDIR)/usr/local/bin/nodecond
	install -D -m 0644 deploy/systemd/nodecond.service $(DESTDIR)/etc/systemd/system/nodecond.service

clean:
	rm -rf build build-asan build-cov

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

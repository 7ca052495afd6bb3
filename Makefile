# Convenience wrapper: the real build is meson/ninja in build/.
#   make        configure (installing Debian packages if missing) and build
#   make run    build, then boot the default guest
#   make check  build and run every test; ends with "N passed, N failed, N skipped"
# SPDX-License-Identifier: GPL-2.0-or-later
BUILD ?= build

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	./configure --builddir=$(BUILD)

run: all
	scripts/run-default-guest.sh $(BUILD)

check:
	scripts/run-tests.sh

clean:
	rm -rf $(BUILD) build-asan

.PHONY: all run check clean

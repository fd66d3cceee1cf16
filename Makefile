# VEDA: the only entry point a user needs.
#   make / make lib   build/libveda.so (soname libveda.so.0) and build/veda
#   make run          install what is missing, build, run `veda info` and `veda demo`
#   make test         install what is missing, build, run every suite, end with "N passed, N failed"
#   make bench        run bench/
#   make install PREFIX=/usr/local
#   make clean
SHELL      := /bin/bash
BUILD      := build
PREFIX     ?= /usr/local
GO         ?= go
export CGO_ENABLED := 1

GO_LDFLAGS := -ldflags=-extldflags=-Wl,-soname,libveda.so.0
LIB        := $(BUILD)/libveda.so
CLI        := $(BUILD)/veda

.PHONY: all lib cli ptx cmake deps deps-runtime test run bench install clean gpu-carry

all: lib

deps:
	@bash tests/install-deps.sh

deps-runtime:
	@bash tests/install-deps.sh --runtime

# PTX for the CUDA kernels, embedded into the library when nvcc (from the PyPI wheels) is present;
# otherwise the library compiles cuda/*.cu with NVRTC at run time.
ptx:
	@bash tests/cuda_compile_check.sh --emit || echo "[ptx] nvcc not found: CUDA kernels will be compiled by NVRTC at run time"

lib: ptx
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared $(GO_LDFLAGS) -o $(LIB) ./capi
	@rm -f $(BUILD)/libveda.h   # cgo's generated header is internal; include/veda.h is the public one
	@ln -sf libveda.so $(BUILD)/libveda.so.0

cli:
	@mkdir -p $(BUILD)
	$(GO) build -o $(CLI) ./goveda/cmd/veda

cmake: lib
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=Release -DVEDA_LIBRARY=$(abspath $(LIB)) >/dev/null
	cmake --build $(BUILD)/cmake -j2

test: deps lib cli cmake
	@bash tests/run-suites.sh

run: deps-runtime lib cli
	@$(CLI) info
	@echo
	@$(CLI) demo

# Binaries for tests/gpu/full.sh on a GPU machine without Go (carry .carry/ there).
gpu-carry: lib cli
	@mkdir -p .carry
	cp $(LIB) .carry/libveda.so && ln -sf libveda.so .carry/libveda.so.0
	cp $(CLI) .carry/veda
	$(GO) test -c -o .carry/goveda.test ./goveda
	$(GO) test -c -o .carry/device.test ./goveda/internal/device
	$(GO) build -o .carry/bench-devices ./goveda/internal/dispatch/cmd/devicebench
	$(GO) build -o .carry/dispatchbench ./goveda/internal/dispatch/cmd/dispatchbench
	@du -sh .carry

bench: lib cli
	@bash bench/run.sh

install: cmake
	cmake --install $(BUILD)/cmake --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) .carry cuda/ptx/*.ptx python/veda/_lib


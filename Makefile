# VEDA: the only entry point a user needs.
#   make / make lib   build/libveda.so (soname libveda.so.0); make cli: build/veda
#   make run          install what is missing, build, run the main job (`veda job`) and `veda demo -quick`
#   make test         install what is missing, build, run every suite, end with "N passed, N failed"
#   make bench        run bench/
#   make wheel        build/wheelhouse/veda-*.whl: the Python package with libveda.so inside
#                     (py3-none, retagged manylinux by auditwheel when it can), installable without Go
#   make install PREFIX=/usr/local   (builds the library only: no test, no fuzzer)
# Building needs Go 1.26 and a C compiler, nothing else (cgo is required).
#   make clean
SHELL      := /bin/bash
BUILD      := build
PREFIX     ?= /usr/local
GO         ?= go
CGO_ENABLED ?= 1
export CGO_ENABLED

GO_LDFLAGS := -ldflags=-extldflags=-Wl,-soname,libveda.so.0
LIB        := $(BUILD)/libveda.so
CLI        := $(BUILD)/veda

.PHONY: all cgo lib cli ptx cmake deps deps-runtime test run bench install clean gpu-carry wheel

all: lib

# VEDA's kernels and device loaders are C: every Go build needs cgo.
cgo:
	@[ "$(CGO_ENABLED)" = 1 ] || { echo "VEDA requires cgo (its kernels and device loaders are C): build with CGO_ENABLED=1 and a C compiler" >&2; exit 1; }

deps:
	@bash tests/install-deps.sh

deps-runtime:
	@bash tests/install-deps.sh --runtime

# PTX for the CUDA kernels, embedded into the library when nvcc (from the PyPI wheels) is present;
# otherwise the library compiles cuda/*.cu with NVRTC at run time. nvcc runs only when a .cu file
# is newer than its PTX (or the PTX is missing).
CU_SRC := $(wildcard cuda/*.cu)
PTX    := $(CU_SRC:cuda/%.cu=cuda/ptx/%.ptx)
ptx: $(PTX)
$(PTX) &: $(CU_SRC)
	@bash tests/cuda_compile_check.sh --emit || echo "[ptx] nvcc not found: CUDA kernels will be compiled by NVRTC at run time"

lib: cgo ptx
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared $(GO_LDFLAGS) -o $(LIB) ./capi/libveda
	@rm -f $(BUILD)/libveda.h   # cgo's generated header is internal; include/veda.h is the public one
	@ln -sf libveda.so $(BUILD)/libveda.so.0

cli: cgo
	@mkdir -p $(BUILD)
	$(GO) build -o $(CLI) ./goveda/cmd/veda

cmake: lib
	cmake -S . -B $(BUILD)/cmake -DCMAKE_BUILD_TYPE=Release -DVEDA_LIBRARY=$(abspath $(LIB)) >/dev/null
	cmake --build $(BUILD)/cmake -j2

test: deps lib cli cmake
	@bash tests/run-suites.sh

# The main job first (veda encrypt/decrypt on a 256 MiB in-memory stream, with the placement
# table and its peers), then the kernel demo, shortened.
run: deps-runtime lib cli
	@$(CLI) job
	@echo
	@echo "== the kernel demo (veda demo -quick; the full one: veda demo; the hardware: veda info)"
	@$(CLI) demo -quick

# Binaries for tests/gpu/full.sh on a GPU machine without Go (carry .carry/ there).
gpu-carry: lib cli
	@mkdir -p .carry
	cp $(LIB) .carry/libveda.so && ln -sf libveda.so .carry/libveda.so.0
	cp $(CLI) .carry/veda
	$(GO) test -c -o .carry/goveda.test ./goveda
	$(GO) test -c -o .carry/device.test ./goveda/internal/device
	$(GO) build -o .carry/bench-devices ./goveda/internal/dispatch/cmd/devicebench
	$(GO) build -o .carry/bench-aead ./bench/aead
	$(GO) build -o .carry/dispatchbench ./goveda/internal/dispatch/cmd/dispatchbench
	@du -sh .carry

bench: lib cli
	@bash bench/run.sh

# The wheel bundles the library `make lib` built (no second Go build); auditwheel picks the
# manylinux tag that libveda.so's glibc symbol versions allow, else the linux_x86_64 wheel stays.
wheel: lib
	@rm -rf $(BUILD)/dist $(BUILD)/wheelhouse
	VEDA_PREBUILT_LIBRARY=$(abspath $(LIB)) python3 -m build --wheel --no-isolation --outdir $(BUILD)/dist python
	@plat=$$(auditwheel show $(BUILD)/dist/*.whl 2>/dev/null | sed -n 's/.*platform tag to "\(manylinux[^"]*\)".*/\1/p' | head -n1); \
	if [ -n "$$plat" ]; then auditwheel repair --plat "$$plat" -w $(BUILD)/wheelhouse $(BUILD)/dist/*.whl; \
	else mkdir -p $(BUILD)/wheelhouse && cp $(BUILD)/dist/*.whl $(BUILD)/wheelhouse/; fi
	@ls $(BUILD)/wheelhouse/*.whl

# A CMake tree of its own, configured without the C tests, the sanitizer run and the fuzzer.
install: lib
	cmake -S . -B $(BUILD)/cmake-install -DCMAKE_BUILD_TYPE=Release -DVEDA_BUILD_TESTS=OFF \
	  -DVEDA_LIBRARY=$(abspath $(LIB)) >/dev/null
	cmake --install $(BUILD)/cmake-install --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) .carry cuda/ptx/*.ptx python/veda/_lib


# lft: the two commands a newcomer needs are `make demo` (the main job) and `make test`.
# Each installs what it needs first (scripts/setup.sh: Bun from npm, OpenBLAS from apt, the C library).
BUN := node_modules/.bin/bun
CC ?= gcc
# -march=native by default; the GPU machine needs a portable build: make ffi MARCH=x86-64-v3
MARCH ?= native
BLAS_INC ?= /usr/include/x86_64-linux-gnu/openblas-pthread
# -fno-math-errno -fno-trapping-math let GCC vectorise loops that call floorf/exp-style code; unlike
# -ffast-math they change no result (no reassociation, NaN and Inf keep their meaning).
CFLAGS := -O3 -march=$(MARCH) -fno-math-errno -fno-trapping-math -fopenmp -fPIC -std=c11 -Wall -Wextra -Wno-unused-parameter -I$(BLAS_INC)
FFI_SRC := $(filter-out ffi/cpu/src/blas_probe.c,$(wildcard ffi/cpu/src/*.c))
FFI_LIB := ffi/cpu/build/liblft_cpu.so
FFI_PROBE := ffi/cpu/build/blas_probe

.PHONY: demo test lint format setup ffi bench typecheck clean
demo: setup
	./lft examples/identity-lora.lft
# --timeout on the command line: this Bun ignores bunfig.toml's [test] timeout (its preload it reads).
# Lint runs last, so a style problem never hides the test counts CI reads.
test:
	@bash scripts/setup.sh --test
	$(BUN) test --timeout 60000
	node_modules/.bin/tsc -p .
	node_modules/.bin/biome check .
# Biome (formatter + linter, biome.json). `make format` applies its formatting and safe fixes.
lint:
	@bash scripts/setup.sh
	node_modules/.bin/biome check .
format:
	node_modules/.bin/biome check --write .
typecheck:
	node_modules/.bin/tsc -p .
bench: setup
	$(BUN) bench/kernels.bench.ts
setup:
	@bash scripts/setup.sh
ffi: $(FFI_LIB) $(FFI_PROBE)

$(FFI_LIB): $(FFI_SRC) $(wildcard ffi/cpu/src/*.h) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -shared -o $@ $(FFI_SRC) -lopenblas -lm
$(FFI_PROBE): ffi/cpu/src/blas_probe.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ $< -lopenblas
clean:
	rm -rf ffi/cpu/build ffi/mpi/build

# The MPI shim for data parallelism (OpenMPI's mpicc from libopenmpi-dev): make mpi
MPICC ?= mpicc
MPI_LIB := ffi/mpi/build/liblft_mpi.so
.PHONY: mpi
mpi: $(MPI_LIB)
$(MPI_LIB): ffi/mpi/src/lft_mpi.c Makefile
	@mkdir -p $(dir $@)
	$(MPICC) -O2 -fPIC -std=c11 -Wall -Wextra -shared -o $@ $< -ldl

# CUDA kernels (ffi/cuda/src/*.cu, one unity translation unit) into one fatbin for A100 (sm_80) and H100
# (sm_90), loaded at run time with cuModuleLoadData. Needs only nvcc, no GPU: make cuda
NVCC ?= nvcc
CUDA_GENCODE ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90
CUDA_FLAGS := -fatbin $(CUDA_GENCODE) -O3 -std=c++17 -Xcompiler -Wall --threads 0
CUDA_SRC := $(wildcard ffi/cuda/src/*.cu) $(wildcard ffi/cuda/src/*.cuh)
CUDA_FATBIN := ffi/cuda/build/lft_cuda.fatbin
.PHONY: cuda
cuda: $(CUDA_FATBIN)
$(CUDA_FATBIN): $(CUDA_SRC)
	@mkdir -p $(dir $@)
	$(NVCC) $(CUDA_FLAGS) -o $@.tmp ffi/cuda/src/lft_cuda.cu && mv $@.tmp $@

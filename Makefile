# hgdtune build and test entry points. See README.md.
#
# GOEXPERIMENT=simd lets GoMLX's pure-Go backend use its AVX2/AVX-512
# matrix multiplication (about 7x faster matmul on these machines).
#
# Go: go.mod needs Go 1.27 and names the toolchain (`toolchain go1.27.3`).
# Every target runs the go command with GOTOOLCHAIN set to that toolchain, so
# an older go command (say Go 1.26.8 with GOTOOLCHAIN=local) fetches it from
# the Go module proxy, once per module cache (about 76 MB), and runs it.
# GO_TOOLCHAIN=local uses the go command as it is (Go 1.27 or newer).

GO      ?= go
GO_TOOLCHAIN ?= $(shell awk '$$1 == "toolchain" {print $$2}' go.mod)
export GOTOOLCHAIN = $(GO_TOOLCHAIN)
GOFLAGS_SIMD = GOEXPERIMENT=simd
BIN     ?= bin
ARGS    ?=

.PHONY: all build build-xla gpu-bundle gpu-reproduce-bundle run test test-short notebooks bench vet clean

all: build

## build: the hgdtune command (pure-Go backend only; builds with CGO_ENABLED=0).
build:
	$(GOFLAGS_SIMD) CGO_ENABLED=0 $(GO) build -o $(BIN)/hgdtune ./cmd/hgdtune

## build-xla: hgdtune with the XLA/PJRT backend compiled in (needs cgo).
build-xla:
	$(GOFLAGS_SIMD) $(GO) build -tags xla -o $(BIN)/hgdtune-xla ./cmd/hgdtune

## gpu-bundle: stripped binaries for scripts/gpu/check.sh on a GPU machine
## (XLA compiled in; needs cgo). Small enough to carry to the device.
gpu-bundle:
	$(GOFLAGS_SIMD) $(GO) build -tags xla -ldflags=-s\ -w -o $(BIN)/gpucheck ./scripts/gpucheck
	$(GOFLAGS_SIMD) $(GO) build -tags xla -ldflags=-s\ -w -o $(BIN)/throughput ./scripts/throughput

## gpu-reproduce-bundle: for scripts/gpu/reproduce.sh: bin/hgdtune with XLA and
## a 30 MB data subset (the first CIFAR-10 training batch) in gpu-data/.
GPU_DATA_SRC ?= $(or $(HGDTUNE_DATA),../shared/data)
gpu-reproduce-bundle:
	$(GOFLAGS_SIMD) $(GO) build -tags xla -ldflags=-s\ -w -o $(BIN)/hgdtune ./cmd/hgdtune
	mkdir -p gpu-data/cifar-10-batches-bin
	cp $(GPU_DATA_SRC)/cifar-10-batches-bin/data_batch_1.bin $(GPU_DATA_SRC)/cifar-10-batches-bin/batches.meta.txt gpu-data/cifar-10-batches-bin/

## run: the main job: the paper's experiment (preset cpu-quick) on the default
## backend (pure Go) and the local data folder ($$HGDTUNE_DATA or ./data).
run: build
	$(BIN)/hgdtune reproduce -preset cpu-quick $(ARGS)

## test: everything CI runs. Real-data tests need HGDTUNE_DATA (see README).
## The race detector runs on every package whose tests finish in seconds
## under it. GoMLX's pure-Go AVX-512 small-matrix kernels (gomlx/compute
## v0.1.14: avx512SmallFloat32TransposedAsm and NonTransposedAsm, reached
## from hgd, nn and cifar/cnn) trip -race's pointer checks ("checkptr:
## pointer arithmetic result points to invalid allocation"), so the packages
## that run GoMLX are raced with -gcflags=all=-d=checkptr=0. cifar/trainer,
## reproduce and cmd/hgdtune are left out: they take over 3 minutes each
## under -race on two cores.
RACE_PLAIN = ./hpo/... ./internal/... ./cifar ./plots ./hgd/ref ./docker
RACE_GOMLX = ./hgd ./nn ./cifar/cnn ./backend
test: vet
	$(GOFLAGS_SIMD) $(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PLAIN)
	$(GOFLAGS_SIMD) $(GO) test -count=1 -race -gcflags=all=-d=checkptr=0 $(RACE_GOMLX)
	CGO_ENABLED=0 $(GO) build ./...

## test-short: the quick subset (skips long tests).
test-short:
	$(GOFLAGS_SIMD) $(GO) test -short ./...

## notebooks: execute every GoNB notebook headless in small mode and check
## their figures (installs Jupyter, GoNB, goimports and gopls when missing).
notebooks:
	bash scripts/notebooks.sh

## bench: the benchmarks (slow; not part of CI).
bench:
	$(GOFLAGS_SIMD) $(GO) test -run '^$$' -bench . -benchmem ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GOFLAGS_SIMD) $(GO) vet ./...

clean:
	rm -rf $(BIN)

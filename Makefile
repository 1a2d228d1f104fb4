# convd: build, test, run, install. Every target installs the Debian packages it needs first
# (scripts/bootstrap does nothing when they are present).
PREFIX ?= /usr/local
SWIFT ?= swift
BENCH_VENV ?= Benchmarks/.venv

.PHONY: all bootstrap build test fuzz run filters install samples model model-resnet onnx-fixtures bench bench-cluster bench-compare clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release

# The end-to-end tests run the debug `convd` binary, so build it before the tests.
# Then the daemon's end-to-end suites once more against the PostgreSQL ledger (a server the
# tests start themselves: Sources/ConvdTestSupport/PostgresServer.swift).
test: bootstrap
	$(SWIFT) build
	$(SWIFT) test
	CONVD_TEST_LEDGER=postgres $(SWIFT) test --skip-build \
		--filter 'ConvdEndToEndTests\.(Daemon|HostileFolder|JobMemory|OperatorFileLimit)'

# libFuzzer targets under AddressSanitizer (Tests/Fuzz/README.md): builds the fuzz package in
# .build-fuzz, replays the committed crashers, then runs png, cpng, chain, config, architecture,
# safetensors and onnx for FUZZ_SECONDS each, one after another; fails on any crash, leak, timeout or
# out-of-memory. Found inputs and crash artifacts go to var/fuzz/ (git-ignored).
FUZZ_SECONDS ?= 60
fuzz: bootstrap
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) scripts/fuzz

# The daemon in the foreground on samples/convd.toml: drop PNGs into var/in/fashion/ (labels)
# or var/in/edges/ (edge maps); results in var/out/, one line per file in
# var/log/classifications.jsonl. Ctrl-C stops it.
run: build
	mkdir -p var/in var/out var/log var/state var/failed
	.build/release/convd run --config samples/convd.toml

# Every sample chain over the sample images, into var/out/filters/ (no daemon).
filters: build
	OUT=var/out/filters scripts/run-samples

# Installs the binary, the unit, the config (never overwriting an existing one) and the
# shipped model; creates the convd system user and /srv/convd/{fashion,edges}/... for it
# (only the folders it creates are chowned, never the files users dropped into them).
# With DESTDIR (packaging) the user and ownership steps are skipped. The installed binary
# carries the Swift runtime (--static-swift-stdlib), so the service does not depend on the
# toolchain's folder; it links the Debian libraries (libpng, OpenBLAS, libinotifytools, SQLite).
install: bootstrap
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/convd/models \
		$(DESTDIR)/etc/convd $(DESTDIR)/etc/systemd/system $(DESTDIR)/etc/logrotate.d
	install -m 0755 .build-static/release/convd $(DESTDIR)$(PREFIX)/bin/convd
	install -m 0644 samples/models/fashion-mnist.safetensors samples/models/fashion-mnist-resnet.safetensors \
		$(DESTDIR)$(PREFIX)/share/convd/models/
	sed 's|/usr/local/|$(PREFIX)/|g' systemd/convd.service > $(DESTDIR)/etc/systemd/system/convd.service
	chmod 0644 $(DESTDIR)/etc/systemd/system/convd.service
	[ -e $(DESTDIR)/etc/convd/convd.toml ] || \
		sed 's|/usr/local/|$(PREFIX)/|g' etc/convd/convd.toml > $(DESTDIR)/etc/convd/convd.toml
	install -m 0644 samples/logrotate/convd $(DESTDIR)/etc/logrotate.d/convd
	install -d $(DESTDIR)/srv/convd/fashion/in $(DESTDIR)/srv/convd/fashion/out $(DESTDIR)/srv/convd/fashion/failed \
		$(DESTDIR)/srv/convd/edges/in $(DESTDIR)/srv/convd/edges/out $(DESTDIR)/srv/convd/edges/failed
	if [ -z "$(DESTDIR)" ]; then \
		getent passwd convd >/dev/null || useradd --system --home-dir /var/lib/convd --shell /usr/sbin/nologin convd; \
		for d in /srv/convd /srv/convd/fashion /srv/convd/edges; do chown convd:convd $$d; done; \
		for d in fashion edges; do for s in in out failed; do chown convd:convd /srv/convd/$$d/$$s; done; done; \
		if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi; \
	fi
	@echo "installed; start it with: systemctl enable --now convd"

# Re-create samples/images from Fashion-MNIST and code (the PNGs are committed).
samples: bootstrap
	python3 scripts/make-samples.py

# Train the shipped Fashion-MNIST model (about 19 minutes on 2 cores: 1,155 s measured) and evaluate it on the
# 10,000 test images.
MODEL = samples/models/fashion-mnist.safetensors
FASHION = /usr/share/datasets/fashion-mnist
model: build
	.build/release/convd train --arch samples/models/fashion.toml --data $(FASHION) --epochs 35 \
		--batch 128 --optimizer adam --lr 0.002 --schedule cosine --augment flip,shift:1,erase --weight-decay 0.0001 \
		--val-split 0 --seed 1 -o $(MODEL)
	.build/release/convd eval --model $(MODEL) --data $(FASHION)

# Train the second shipped model, a small residual network (samples/models/fashion-mnist-resnet.toml),
# within 30 minutes on 2 cores (1,465 s measured), and evaluate it on the 10,000 test images.
RESNET = samples/models/fashion-mnist-resnet.safetensors
model-resnet: build
	.build/release/convd train --arch samples/models/fashion-mnist-resnet.toml --data $(FASHION) --epochs 32 \
		--batch 128 --optimizer adamw --lr 0.002 --weight-decay 0.05 --schedule warmup-cosine:1 \
		--label-smoothing 0.1 --augment flip,shift:1 --val-split 0 --seed 1 -o $(RESNET)
	.build/release/convd eval --model $(RESNET) --data $(FASHION)

# ONNX models exported from PyTorch with onnxruntime's outputs (scripts/onnx-fixtures.py, in
# the benchmark environment): the small set is committed (Tests/ConvdOnnxTests/Fixtures); this
# makes the large one (ResNet-18, MobileNetV2, EfficientNet-B0; Benchmarks/.cache/onnx), which
# `make test` then checks too and `make bench-compare` measures.
onnx-fixtures:
	VENV=$(abspath $(BENCH_VENV)) Benchmarks/setup-venv.sh
	$(BENCH_VENV)/bin/python scripts/onnx-fixtures.py --large

bench: build
	$(SWIFT) run -c release --package-path Benchmarks convd-bench filters
	$(SWIFT) run -c release --package-path Benchmarks convd-bench cnn
	$(SWIFT) run -c release --package-path Benchmarks convd-bench daemon
	$(SWIFT) run -c release --package-path Benchmarks convd-bench ledger

# 1, 2 and 3 daemons over one PostgreSQL ledger (a server the benchmark starts) beside one on
# SQLite: CLUSTER_FILES tiny PNGs at once, files/s and p99 latency, medians of CLUSTER_RUNS.
CLUSTER_FILES ?= 10000
CLUSTER_RUNS ?= 3
bench-cluster: build bootstrap
	$(SWIFT) run -c release --package-path Benchmarks convd-bench cluster $(CLUSTER_FILES) $(CLUSTER_RUNS)

# convd against OpenCV, onnxruntime, PyTorch and a Python hot folder, alternating samples (see
# Benchmarks/compare.py; README "Benchmarks"). The first run creates Benchmarks/.venv
# (git-ignored) and installs the Python packages into it. BENCH_ONLY=filters,png selects groups
# (filters chains png infer conv train daemon), BENCH_PAIRS=3 sets the measured pairs;
# BENCH_VENV=DIR puts the environment elsewhere (outside the tree, or a git-ignored folder).
bench-compare: build
	$(SWIFT) build -c release --package-path Benchmarks
	VENV=$(abspath $(BENCH_VENV)) Benchmarks/setup-venv.sh
	$(BENCH_VENV)/bin/python Benchmarks/compare.py

clean:
	rm -rf .build .build-static .build-fuzz var Benchmarks/.build

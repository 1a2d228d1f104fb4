# convd: build, test, run, install. Every target installs the Debian packages it needs first
# (scripts/bootstrap does nothing when they are present).
PREFIX ?= /usr/local
SWIFT ?= swift

.PHONY: all bootstrap build test run install samples model bench clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	$(SWIFT) build -c release

# The end-to-end tests run the debug `convd` binary, so build it before the tests.
test: bootstrap
	$(SWIFT) build
	$(SWIFT) test

# Until the daemon exists: every sample chain over the sample images, into var/out/.
run: build
	scripts/run-samples

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 .build/release/convd $(DESTDIR)$(PREFIX)/bin/convd

# Re-create samples/images from Fashion-MNIST and code (the PNGs are committed).
samples: bootstrap
	python3 scripts/make-samples.py

# Train the shipped Fashion-MNIST model (about 16-17 minutes on 2 cores) and evaluate it on the
# 10,000 test images.
MODEL = samples/models/fashion-mnist.safetensors
FASHION = /usr/share/datasets/fashion-mnist
model: build
	.build/release/convd train --arch samples/models/fashion.toml --data $(FASHION) --epochs 30 \
		--batch 128 --optimizer adam --lr 0.002 --schedule cosine --augment flip,shift:1 --weight-decay 0.0001 \
		--val-split 0 --seed 1 -o $(MODEL)
	.build/release/convd eval --model $(MODEL) --data $(FASHION)

bench: bootstrap
	$(SWIFT) run -c release --package-path Benchmarks convd-bench filters
	$(SWIFT) run -c release --package-path Benchmarks convd-bench cnn

clean:
	rm -rf .build var

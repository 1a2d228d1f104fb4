# convd: build, test, run, install. Every target installs the Debian packages it needs first
# (scripts/bootstrap does nothing when they are present).
PREFIX ?= /usr/local
SWIFT ?= swift

.PHONY: all bootstrap build test run install samples bench clean

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

bench: bootstrap
	$(SWIFT) run -c release --package-path Benchmarks convd-bench filters

clean:
	rm -rf .build var

# The shortener's entry points. `make up` and `make test` are the two
# commands of the README; everything else is a step they use.

FLAVOR	?= dev
CC	?= cc
CFLAGS	?= -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wshadow \
	   -Wmissing-prototypes -Wstrict-prototypes -Isrc

CORE_SRC	:= $(wildcard src/core/*.c)
UNIT_SRC	:= $(wildcard tests/unit/*.c)
INTEG_SRC	:= $(wildcard tests/integration/*.c)

.PHONY: all deps build up down status logs test unit unit-asan integration seed bench \
	bench-scale chaos load env fuzz fuzz-build clean assets screenshots dashboard-png \
	compose-up compose-down chaos-compose

all: build

deps:
	@scripts/deps.sh

build:
	@scripts/build.sh $(FLAVOR)

up:
	@scripts/stack.sh up

down:
	@scripts/stack.sh down

status:
	@scripts/stack.sh status

logs:
	@scripts/stack.sh logs

# The container topology (docker-compose.yml) through scripts/compose.py:
# an engine found or started (Debian's docker.io, its own dirs under
# /var/lib/shortener-docker), the base image pulled or made, images built,
# every service healthy, the addresses printed. compose-down keeps the data
# volumes (scripts/compose.py down -v drops them).
compose-up:
	@scripts/deps.sh --compose
	@scripts/compose.py up

compose-down:
	@scripts/deps.sh --compose
	@scripts/compose.py down

test:
	@scripts/deps.sh
	@/usr/bin/python3 scripts/test.py

# The integration half of `make test` alone (PostgreSQL + app + coverage).
integration:
	@scripts/deps.sh
	@/usr/bin/python3 scripts/test.py integration

tests/bin/unit: $(CORE_SRC) $(UNIT_SRC) $(wildcard src/core/*.h)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) $(UNIT_CFLAGS) -o $@ $(CORE_SRC) $(UNIT_SRC) \
	    -ljansson -lcsv -lcrypto -lidn2 -lpcre2-8 -lqrencode -lz -lhiredis -lcriterion $(UNIT_LDFLAGS)

# The unit tests read the generated sample's users.csv (tools/seedgen).
tests/bin/seed/users.csv: tools/seedgen
	@mkdir -p tests/bin/seed
	tools/seedgen --out tests/bin/seed >/dev/null

# UNIT_ARGS go to Criterion (scripts/test.py: --tap=FILE, the report it counts).
unit: tests/bin/unit tests/bin/seed/users.csv
	SEED_USERS_CSV=tests/bin/seed/users.csv \
	    BOT_PATTERNS=assets/data/isbot-patterns.json tests/bin/unit $(UNIT_ARGS)

# The web app's vendor files and the bot list, from the npm packages
# web/package-lock.json pins (web/package.json names them), copied into
# assets/, where kodev compiles them into the module. The copies are
# committed: a clone builds and runs without npm; run this after changing
# a version in web/package.json (then `npm install` there updates the
# lockfile) and commit what changed. docs/decisions.md says why these.
VENDOR		:= assets/vendor
NPM_MODULES	:= web/node_modules

assets:
	cd web && npm ci --ignore-scripts --no-audit --no-fund
	cp $(NPM_MODULES)/uplot/dist/uPlot.iife.min.js $(VENDOR)/uplot.min.js
	cp $(NPM_MODULES)/uplot/dist/uPlot.min.css $(VENDOR)/uplot.min.css
	cp $(NPM_MODULES)/uplot/LICENSE $(VENDOR)/uplot.LICENSE.txt
	cp $(NPM_MODULES)/swagger-ui-dist/swagger-ui-bundle.js \
	    $(VENDOR)/swagger-ui-bundle.js
	sed -i '/^\/\/# sourceMappingURL=/d' $(VENDOR)/swagger-ui-bundle.js
	cp $(NPM_MODULES)/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui.css
	sed -i '/sourceMappingURL=/d' $(VENDOR)/swagger-ui.css
	cp $(NPM_MODULES)/swagger-ui-dist/LICENSE \
	    $(VENDOR)/swagger-ui.LICENSE.txt
	cp $(NPM_MODULES)/swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt \
	    $(VENDOR)/swagger-ui-bundle.LICENSE.txt
	cd web && node -e 'process.stdout.write(JSON.stringify(require("isbot").list, null, 1) + "\n")' \
	    >../assets/data/isbot-patterns.json
	@echo "assets: vendor files and the bot list copied; commit assets/"

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc's; float-cast-overflow is not part of gcc's "undefined"). Any
# report fails the test that caused it; the runtime settings are in
# scripts/sanitize.sh. The asan flavor of the module (conf/build.conf)
# uses the same checks.
SAN_CFLAGS	:= -fsanitize=address,undefined,float-cast-overflow \
		   -fno-sanitize-recover=all -fno-omit-frame-pointer

tests/bin/unit-asan: $(CORE_SRC) $(UNIT_SRC) $(wildcard src/core/*.h)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) $(SAN_CFLAGS) -o $@ $(CORE_SRC) $(UNIT_SRC) \
	    -ljansson -lcsv -lcrypto -lidn2 -lpcre2-8 -lqrencode -lz -lhiredis -lcriterion

unit-asan: tests/bin/unit-asan tests/bin/seed/users.csv
	. scripts/sanitize.sh && SEED_USERS_CSV=tests/bin/seed/users.csv \
	    BOT_PATTERNS=assets/data/isbot-patterns.json tests/bin/unit-asan $(UNIT_ARGS)

# Fuzz targets, one per tests/fuzz/fuzz_*.c: libFuzzer with ASan+UBSan
# (Debian's clang-14; the core is built once, instrumented, into
# .build/fuzz/obj). `make fuzz FUZZ_SECONDS=N` runs each for N seconds,
# one after the other (scripts/fuzz.py, docs/testing.md); `make test`
# runs a short version.
FUZZ_CC		?= clang-14
FUZZ_SECONDS	?= 600
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS	:= -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Isrc \
		   -fno-omit-frame-pointer $(FUZZ_SAN)
FUZZ_SRC	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN	:= $(patsubst tests/fuzz/%.c,.build/fuzz/bin/%,$(FUZZ_SRC))
FUZZ_OBJ	:= $(patsubst src/core/%.c,.build/fuzz/obj/%.o,$(CORE_SRC))

.build/fuzz/obj/%.o: src/core/%.c $(wildcard src/core/*.h)
	@mkdir -p .build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

.build/fuzz/bin/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OBJ)
	@mkdir -p .build/fuzz/bin
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) \
	    -ljansson -lcsv -lcrypto -lidn2 -lpcre2-8 -lqrencode -lz

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@/usr/bin/python3 scripts/fuzz.py run $(FUZZ_SECONDS)

tests/bin/integration: $(INTEG_SRC) $(wildcard tests/integration/*.h)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) -o $@ $(INTEG_SRC) -ljansson -lcurl -lpq -lcriterion

tools/seedgen: tools/seedgen.c
	$(CC) $(CFLAGS) -O2 -o $@ $<

seed: tools/seedgen

# The redirect benchmark (wrk): figures and how to read them in
# docs/performance.md.
bench:
	@/usr/bin/python3 scripts/bench_redirect.py

# The service at production size: 100k users, 1M URLs, 10M events (or
# SCALE_USERS, SCALE_URLS, SCALE_EVENTS) on a private stack; every list
# shape, point reads, writes and redirects timed directly and through
# nginx, whole-list memory, a Locust run; targets PASS/FAIL
# (scripts/bench_scale.py, figures in docs/performance.md).
bench-scale:
	@scripts/deps.sh
	@/usr/bin/python3 scripts/bench_scale.py

# The web app's main pages as PNG files in docs/screenshots/, from headless
# Chromium against a running stack (`make up`, or HOST=...), with a small
# sample of its own (scripts/screenshots.py).
screenshots:
	@scripts/deps.sh
	@PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 scripts/screenshots.py $(HOST) docs/screenshots

# The Grafana dashboard drawn from a running Prometheus (`make up`'s, or
# PROMETHEUS=...) into docs/dashboard.png (scripts/dashboard_png.py).
PROMETHEUS	?= http://127.0.0.1:9090
DASHBOARD_MINUTES ?= 15

dashboard-png:
	@scripts/deps.sh
	@/usr/bin/python3 scripts/dashboard_png.py $(PROMETHEUS) docs/dashboard.png $(DASHBOARD_MINUTES)

# The load test (Locust, locustfile.py) against a running stack (`make up`):
# USERS simulated clients for DURATION, then requests/s, p50/p95/p99 and
# failures per endpoint, Locust's own CPU use, and the verdict against the
# targets (scripts/load_report.py). Figures in docs/performance.md.
USERS		?= 500
SPAWN		?= 100
DURATION	?= 60s
HOST		?= http://127.0.0.1:8080
LOAD_OUT	?= .build/load

load:
	@LOAD_HOST=$(HOST) PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 scripts/load_report.py $(LOAD_OUT) \
	    locust -f locustfile.py --headless -u $(USERS) -r $(SPAWN) \
	    -t $(DURATION) --host $(HOST) --stop-timeout 5 --only-summary \
	    --csv $(LOAD_OUT)/locust --html $(LOAD_OUT)/locust.html

# The chaos suite, full version, on a private stack on free ports
# (tests/stack with CHAOS_PROFILE=full): faults under load, figures written
# to docs/failure-modes.md. Rolling restart of `make up`'s instances:
# scripts/stack.sh restart.
chaos:
	@CHAOS_PROFILE=full CHAOS_DOC=$(CURDIR)/docs/failure-modes.md /usr/bin/python3 scripts/test.py stack

# The same against the container topology (tests/compose with
# CHAOS_PROFILE=full): restart semantics of every kind of stop and the
# full chaos suite, figures written to docs/failure-modes.md.
chaos-compose:
	@CHAOS_PROFILE=full CHAOS_DOC=$(CURDIR)/docs/failure-modes.md /usr/bin/python3 scripts/test.py compose

# .env for docker-compose: .env.example with random secrets and a generated
# ADMIN_API_KEY (an existing .env keeps its values and only gets an
# ADMIN_API_KEY when it has none; docs/security.md).
env:
	@scripts/compose.py env

clean:
	rm -rf .build tests/bin tools/seedgen

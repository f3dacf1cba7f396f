# The shortener's entry points. `make up` and `make test` are the two
# commands of the README; everything else is a step they use.

FLAVOR	?= dev
CC	?= cc
CFLAGS	?= -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wshadow \
	   -Wmissing-prototypes -Wstrict-prototypes -Isrc

CORE_SRC	:= $(wildcard src/core/*.c)
UNIT_SRC	:= $(wildcard tests/unit/*.c)
INTEG_SRC	:= $(wildcard tests/integration/*.c)

.PHONY: all deps build up down status logs test unit unit-asan integration seed \
	bench chaos load fuzz fuzz-build clean

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

test:
	@scripts/test.sh

# The integration half of `make test` alone (PostgreSQL + app + coverage).
integration:
	@scripts/test.sh integration

tests/bin/unit: $(CORE_SRC) $(UNIT_SRC) $(wildcard src/core/*.h)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) $(UNIT_CFLAGS) -o $@ $(CORE_SRC) $(UNIT_SRC) \
	    -ljansson -lcsv -lcriterion $(UNIT_LDFLAGS)

unit: tests/bin/unit
	tests/bin/unit

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
	    -ljansson -lcsv -lcriterion

unit-asan: tests/bin/unit-asan
	. scripts/sanitize.sh && tests/bin/unit-asan

# Fuzz targets, one per tests/fuzz/fuzz_*.c: libFuzzer with ASan+UBSan
# (Debian's clang-14; the core is built once, instrumented, into
# .build/fuzz/obj). `make fuzz FUZZ_SECONDS=N` runs each for N seconds,
# one after the other (scripts/fuzz.sh, docs/testing.md); `make test`
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
	    -ljansson -lcsv

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@scripts/fuzz.sh run $(FUZZ_SECONDS)

tests/bin/integration: $(INTEG_SRC) $(wildcard tests/integration/*.h)
	@mkdir -p tests/bin
	$(CC) $(CFLAGS) -o $@ $(INTEG_SRC) -ljansson -lcurl -lpq -lcriterion

tools/seedgen: tools/seedgen.c
	$(CC) $(CFLAGS) -O2 -o $@ $<

seed: tools/seedgen

# The redirect benchmark (wrk): figures and how to read them in
# docs/performance.md.
bench:
	@scripts/bench-redirect.sh

# The load test (Locust, locustfile.py) against a running stack (`make up`):
# USERS simulated clients for DURATION, then requests/s, p50/p95/p99 and
# failures per endpoint, Locust's own CPU use, and the verdict against the
# targets (scripts/load-report.sh). Figures in docs/performance.md.
USERS		?= 500
SPAWN		?= 100
DURATION	?= 60s
HOST		?= http://127.0.0.1:8080
LOAD_OUT	?= .build/load

load:
	@LOAD_HOST=$(HOST) PYTHONDONTWRITEBYTECODE=1 scripts/load-report.sh $(LOAD_OUT) \
	    locust -f locustfile.py --headless -u $(USERS) -r $(SPAWN) \
	    -t $(DURATION) --host $(HOST) --stop-timeout 5 --only-summary \
	    --csv $(LOAD_OUT)/locust --html $(LOAD_OUT)/locust.html

# The chaos suite, full version, on a private stack on free ports
# (scripts/test-stack.sh --full): faults under load, figures written to
# docs/failure-modes.md. Rolling restart of `make up`'s instances:
# scripts/stack.sh restart.
chaos:
	@scripts/test-stack.sh --full

clean:
	rm -rf .build tests/bin tools/seedgen

# The shortener's entry points. `make up` and `make test` are the two
# commands of the README; everything else is a step they use.

FLAVOR	?= dev
CC	?= cc
CFLAGS	?= -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Wshadow \
	   -Wmissing-prototypes -Wstrict-prototypes -Isrc

CORE_SRC	:= $(wildcard src/core/*.c)
UNIT_SRC	:= $(wildcard tests/unit/*.c)
INTEG_SRC	:= $(wildcard tests/integration/*.c)

.PHONY: all deps build up down status logs test unit integration seed bench clean

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

clean:
	rm -rf .build tests/bin tools/seedgen

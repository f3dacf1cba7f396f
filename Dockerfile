# The shortener as a container: built with kodev in a full Debian, run
# from a slim one that only has the runtime libraries. The same image runs
# the app instances and the one-shot migrate-and-seed job (db-init).
#
# Every image of docker-compose.yml starts from debian:bookworm-slim and
# installs Debian 12's packages, the ones the Docker-free stack runs
# (docs/decisions.md, "Container images"). Where no registry can be
# reached, scripts/compose.py makes that base locally (debootstrap).
# Builds need a network for apt-get: docker-compose.yml builds with the
# host's (build.network: host).

FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      kore build-essential libjansson-dev libcsv-dev libhiredis-dev libpq-dev \
      libssl-dev libidn2-dev libqrencode-dev libpcre2-dev zlib1g-dev python3-minimal \
 && rm -rf /var/lib/apt/lists/*
# kodev names the application after its directory.
WORKDIR /build/shortener
COPY Makefile Makefile
COPY conf conf
COPY src src
COPY tools tools
COPY assets assets
COPY scripts/kore_conf.py scripts/kore_conf.py
# kodev compiles assets/ (the web app, the OpenAPI schemas, the vendored
# front-end files, the bot list) into the module. seedgen is built by the
# Makefile's rule (the project's CFLAGS, -D_GNU_SOURCE among them), as on
# the host. The configuration is rendered by the renderer every instance
# uses (scripts/kore_conf.py): the public bind on 0.0.0.0:8080, where the
# health check, nginx and the published ports expect it.
ARG SHORTENER_VERSION=unknown
ARG SHORTENER_COMMIT=unknown
RUN printf '#define SHORTENER_VERSION\t"%s"\n#define SHORTENER_COMMIT\t"%s"\n' \
      "$SHORTENER_VERSION" "$SHORTENER_COMMIT" >src/obs/build_info.h \
 && KORE_BUILD_FLAVOR=prod kodev build \
 && make tools/seedgen \
 && python3 scripts/kore_conf.py --bind 0.0.0.0:8080 conf/shortener.conf conf/shortener.conf

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      kore libjansson4 libcsv3 libhiredis0.14 libpq5 libssl3 libidn2-0 libqrencode4 \
      libpcre2-8-0 zlib1g postgresql-client curl python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /app --shell /usr/sbin/nologin shortener \
 && mkdir -p /app/journal && chown shortener /app/journal
WORKDIR /app
COPY --from=build /build/shortener/shortener.so ./shortener.so
COPY --from=build /build/shortener/conf/shortener.conf conf/shortener.conf
COPY --from=build /build/shortener/tools/seedgen /usr/local/bin/seedgen
COPY db/migrations db/migrations
COPY scripts/lib.sh scripts/migrate.sh scripts/seed-load.sh scripts/db-init.sh \
     scripts/apikey.py scripts/
USER shortener
EXPOSE 8080
# On SIGTERM each worker stops accepting, finishes the requests in flight
# (up to 5 s; Kore 4.1 alone would drop them, see src/app/init.c) and
# flushes its click queue before it exits.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=6s --start-period=5s --retries=3 \
  CMD curl -fsS -m 5 http://127.0.0.1:8080/health || exit 1
# -f foreground, -n no chroot, -r keep the unprivileged user.
CMD ["kore", "-f", "-n", "-r", "-c", "conf/shortener.conf"]

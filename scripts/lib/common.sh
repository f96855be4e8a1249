# Shared by scripts/test, scripts/demo and scripts/bench: dependencies, build, throwaway services.
# Source it; functions only, nothing runs on load.

PROJECT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# The scripts start several projectors at once: no HTTP API unless one is asked for (--http).
export PROJECTOR_HTTP="${PROJECTOR_HTTP-}"

log() { printf '%s\n' "--- $*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Prints which of the given Debian packages are not installed.
missing_packages() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

apt_install() {
    log "installing: $*"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    [ -n "${APT_UPDATED:-}" ] || { $sudo apt-get update -qq >/dev/null; APT_UPDATED=1; }
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
        >/dev/null || die "apt-get install $* failed"
}

# Installs the Debian packages the project needs, when any is missing.
deps_install() {
    local missing
    missing=$(missing_packages build-essential cmake pkg-config librdkafka-dev libjansson-dev \
        libpq-dev libevent-dev libcmocka-dev libcurl4-openssl-dev zlib1g-dev postgresql kcat \
        python3 curl openssl clang clang-format valgrind prometheus libavro-dev python3-avro)
    # shellcheck disable=SC2086
    [ -z "$missing" ] || apt_install $missing
    # libFuzzer's runtime is a package of its own beside clang-N on Debian 12.
    local rt
    rt=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9]*\)$/libclang-rt-\1-dev/p' | head -n 1)
    [ -z "$rt" ] || [ -z "$(missing_packages "$rt")" ] || apt_install "$rt"
}

# Configures and builds into $1 with extra CMake arguments after it.
build_into() {
    local dir=$1; shift
    cmake -S "$PROJECT_ROOT" -B "$dir" "$@" >/dev/null || die "cmake configure failed"
    cmake --build "$dir" -j "$(nproc)" >/dev/null || cmake --build "$dir" -j1 || die "build failed"
}

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# Runs a command as the postgres user when root (PostgreSQL refuses to run as root).
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Starts a throwaway PostgreSQL cluster (socket and data under a temp dir) and exports PG*
# variables for it. Extra arguments are server options (-c name=value). Stop with pg_stop.
pg_start() {
    local bin; bin=$(pg_bindir); [ -n "$bin" ] || die "PostgreSQL server binaries not found"
    PG_ROOT=$(mktemp -d /tmp/projector-pg.XXXXXX)
    chmod 755 "$PG_ROOT"
    [ "$(id -u)" -eq 0 ] && chown postgres "$PG_ROOT"
    as_pg "$bin/initdb" -D "$PG_ROOT/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null \
        || die "initdb failed"
    local port
    for _ in $(seq 1 20); do
        port=$((20000 + RANDOM % 20000))
        if as_pg "$bin/pg_ctl" -D "$PG_ROOT/data" -l "$PG_ROOT/log" -w -t 30 \
            -o "-p $port -k $PG_ROOT -c listen_addresses='' $*" start >/dev/null; then
            export PGHOST=$PG_ROOT PGPORT=$port PGUSER=postgres PGDATABASE=postgres
            unset PROJECTOR_PG
            return 0
        fi
    done
    cat "$PG_ROOT/log" >&2
    die "PostgreSQL did not start"
}

pg_stop() {
    [ -n "${PG_ROOT:-}" ] || return 0
    as_pg "$(pg_bindir)/pg_ctl" -D "$PG_ROOT/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_ROOT"
    PG_ROOT=""
}

# Starts `projector broker` (binary $1) with the remaining arguments; sets BROKERS and
# BROKER_PID. Fault-injection commands can be written to the FIFO $BROKER_CTL.
broker_start() {
    local bin=$1; shift
    BROKER_DIR=$(mktemp -d /tmp/projector-broker.XXXXXX)
    BROKER_CTL=$BROKER_DIR/ctl
    mkfifo "$BROKER_CTL"
    "$bin" broker "$@" <"$BROKER_CTL" >"$BROKER_DIR/out" 2>"$BROKER_DIR/err" &
    BROKER_PID=$!
    exec {BROKER_FD}>"$BROKER_CTL"
    for _ in $(seq 1 100); do
        BROKERS=$(head -n 1 "$BROKER_DIR/out" 2>/dev/null)
        [ -n "$BROKERS" ] && { export BROKERS; return 0; }
        sleep 0.05
    done
    cat "$BROKER_DIR/err" >&2
    die "projector broker did not start"
}

# Starts the Elasticsearch stand-in (tests/es_standin: a test fixture, not part of the service)
# with extra arguments; exports ES_URL and PROJECTOR_ES_URL. Its log goes to ES_DIR/log.
es_start() {
    ES_DIR=$(mktemp -d /tmp/projector-es.XXXXXX)
    python3 "$PROJECT_ROOT/tests/es_standin/es_standin.py" --listen 127.0.0.1:0 \
        --port-file "$ES_DIR/port" "$@" >>"$ES_DIR/log" 2>&1 &
    ES_PID=$!
    for _ in $(seq 1 200); do
        if [ -s "$ES_DIR/port" ]; then
            ES_URL=http://127.0.0.1:$(cat "$ES_DIR/port")
            export ES_URL PROJECTOR_ES_URL=$ES_URL
            return 0
        fi
        sleep 0.05
    done
    cat "$ES_DIR/log" >&2
    die "the Elasticsearch stand-in did not start"
}

es_stop() {
    [ -n "${ES_PID:-}" ] || return 0
    kill "$ES_PID" 2>/dev/null; wait "$ES_PID" 2>/dev/null
    rm -rf "$ES_DIR"
    ES_PID=""
}

broker_stop() {
    [ -n "${BROKER_PID:-}" ] || return 0
    kill "$BROKER_PID" 2>/dev/null; wait "$BROKER_PID" 2>/dev/null
    exec {BROKER_FD}>&- 2>/dev/null || true
    rm -rf "$BROKER_DIR"
    BROKER_PID=""
}

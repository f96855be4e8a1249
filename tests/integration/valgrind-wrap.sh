#!/usr/bin/env bash
# Stands in for the projector binary in an integration test, so the test runs unchanged with
# the projector under valgrind memcheck: `projector broker` (test scaffolding) runs as is, every
# other subcommand runs under valgrind, one log per process in $VALGRIND_LOG_DIR.
#   VALGRIND_PROJECTOR=build-valgrind/projector VALGRIND_LOG_DIR=DIR \
#       tests/integration/test_sample_domain.sh tests/integration/valgrind-wrap.sh ORDERS_GEN
# Any error or leak (definite, indirect, possible) makes the process exit 99, which the test's
# stop_clean reports; scripts/test also reads the logs afterwards. VALGRIND_EXTRA adds options,
# e.g. --gen-suppressions=all when writing tests/valgrind.supp.
set -euo pipefail
bin=${VALGRIND_PROJECTOR:?VALGRIND_PROJECTOR must name the projector binary (a build without sanitizers)}
logs=${VALGRIND_LOG_DIR:?VALGRIND_LOG_DIR must name the directory for the valgrind logs}
supp=$(cd "$(dirname "$0")/.." && pwd)/valgrind.supp

[ "${1:-}" = broker ] && exec "$bin" "$@"
mkdir -p "$logs"
# shellcheck disable=SC2086 # VALGRIND_EXTRA is a list of options
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 --track-fds=no \
    --num-callers=40 --suppressions="$supp" ${VALGRIND_EXTRA:-} \
    --log-file="$logs/projector-${1:-none}.%p.log" "$bin" "$@"

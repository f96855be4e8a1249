#!/usr/bin/env bash
# The Debian package, as an administrator uses it: scripts/package builds it; its contents,
# Depends and conffiles are right; `dpkg -i` creates the projector system user and the
# configuration directories; the installed projector answers --version and checks the sample
# mappings against a database as the projector user, also with the environment file the way
# the unit reads it, and runs the sample events into the read tables and search documents as
# that user, stopping with exit 0 on SIGTERM; systemd-analyze accepts the units; a reinstall
# keeps an edited environment file; `dpkg -r` and `dpkg -P` leave nothing of the package
# behind.
# It installs system-wide: one copy at a time (a lock), and it refuses to run when a projector
# package or /etc/projector is already there (it would remove them).
source "$(dirname "$0")/lib.sh"
PROJECTOR=$(realpath "$1") ORDERS_GEN=$(realpath "$2")   # it changes directory

UNIT_DIR=/usr/lib/systemd/system
DOC=/usr/share/doc/projector
INSTALLED=""

[ "$(id -u)" -eq 0 ] || fail "this test needs root: it installs the package with dpkg -i"
exec {LOCK_FD}>/tmp/projector-test-package.lock
flock -w 600 "$LOCK_FD" || fail "another package test holds /tmp/projector-test-package.lock"
# ii installed, rc removed with its configuration left; nothing when unknown or purged.
pkg_state() {
    local s
    s=$(dpkg-query -W -f='${db:Status-Abbrev}' projector 2>/dev/null | tr -d ' ' || true)
    [ "$s" = un ] || echo "$s"
}
[ -z "$(pkg_state)" ] || fail "a projector package is installed here ($(pkg_state)): remove it first"
[ ! -e /etc/projector ] || fail "/etc/projector exists: this test would remove it"
[ ! -e /usr/bin/projector ] || fail "/usr/bin/projector exists: this test would remove it"

# Whatever happens, the machine is left without the package and its configuration.
package_cleanup() {
    [ -n "$INSTALLED" ] || return 0
    dpkg -P projector >/dev/null 2>&1 || true
    rm -rf /etc/projector
}
CLEANUP_HOOK=package_cleanup
itest_setup package --topic order-events:2

version=$("$PROJECTOR" --version | head -n 1)
[[ $version == "projector "* ]] || fail "unexpected --version of the build: $version"
version=${version#projector }

# Build: the last line of scripts/package's output is the .deb.
"$PROJECT_ROOT/scripts/package" "$WORK/build" >"$WORK/package.log" 2>&1 \
    || { cat "$WORK/package.log" >&2; fail "scripts/package failed"; }
deb=$(tail -n 1 "$WORK/package.log")
[ -f "$deb" ] || { cat "$WORK/package.log" >&2; fail "scripts/package printed no .deb: $deb"; }
[ "$(basename "$deb")" = "projector_${version}_$(dpkg --print-architecture).deb" ] \
    || fail "unexpected package file name: $deb"
echo "built $deb"

# Contents: the binary alone under /usr/bin, the units, the environment file, docs, examples.
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$WORK/files"
for f in /usr/bin/projector $UNIT_DIR/projector.service "$UNIT_DIR/projector@.service" \
    /etc/default/projector $DOC/help.txt $DOC/settings.txt $DOC/README.md \
    $DOC/examples/mappings/orders.json $DOC/examples/views/010_orders.sql \
    $DOC/examples/views/orders.es.json; do
    grep -qx -- "$f" "$WORK/files" || { cat "$WORK/files" >&2; fail "package lacks $f"; }
done
[ "$(grep -c '^/usr/bin/.' "$WORK/files")" = 1 ] || fail "package has more than projector in /usr/bin"
! grep -q 'orders_gen\|test_' "$WORK/files" || fail "package holds test tools"
[ "$(dpkg-deb -f "$deb" Package)" = projector ] || fail "package name"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "package version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
for d in adduser librdkafka1 libpq5 libjansson4 libevent-2.1-7 libevent-pthreads-2.1-7 libcurl4 \
    zlib1g libc6; do
    [[ ", $depends," == *", $d "* || ", $depends," == *", $d,"* ]] || fail "Depends lacks $d: $depends"
done
echo "Depends: $depends"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles >"$WORK/conffiles"
[ "$(cat "$WORK/conffiles")" = /etc/default/projector ] || fail "conffiles: $(cat "$WORK/conffiles")"

# Install.
INSTALLED=1
dpkg -i "$deb" >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "dpkg -i failed"; }
expect_no_text "$WORK/install.log" "arning"
[ "$(pkg_state)" = ii ] || fail "package state after dpkg -i: $(pkg_state)"
[ "$(/usr/bin/projector --version | head -n 1)" = "projector $version" ] \
    || fail "installed --version: $(/usr/bin/projector --version)"
id projector >/dev/null || fail "no projector user"
uid=$(id -u projector)
[ "$uid" -lt 1000 ] || fail "projector is not a system user (uid $uid)"
[ "$(id -gn projector)" = projector ] || fail "projector's group is $(id -gn projector)"
[ ! -e "$(getent passwd projector | cut -d: -f6)" ] || fail "projector has a home directory"
for d in /etc/projector/mappings /etc/projector/views; do [ -d $d ] || fail "no $d"; done
[ "$(stat -c '%U:%G %a' /etc/default/projector)" = "root:projector 640" ] \
    || fail "/etc/default/projector is $(stat -c '%U:%G %a' /etc/default/projector)"
expect_text $DOC/help.txt "usage: projector COMMAND"
expect_text $DOC/settings.txt "PROJECTOR_BROKERS"

# The environment file: every variable of `projector help settings`, all commented out.
for v in $(/usr/bin/projector help settings | grep -o 'PROJECTOR_[A-Z_]*' | sort -u); do
    grep -q "^#$v=" /etc/default/projector || fail "/etc/default/projector does not show $v"
done
[ -z "$(grep -v '^#' /etc/default/projector | grep -v '^[[:space:]]*$')" ] \
    || fail "/etc/default/projector sets something: $(grep -v '^#' /etc/default/projector)"

# The installed binary as the projector user: the sample mappings check clean against the test
# database; an empty mappings directory is exit 2 (which the unit does not restart).
cd /
expect_exit 0 "$WORK/check.out" runuser -u projector -- /usr/bin/projector check \
    --mappings $DOC/examples/mappings --views $DOC/examples/views
expect_text "$WORK/check.out" "ok: 1 projection(s)"
cat "$WORK/check.out"
expect_exit 2 "$WORK/check_empty.out" runuser -u projector -- /usr/bin/projector check \
    --mappings /etc/projector/mappings --views $DOC/examples/views
expect_text "$WORK/check_empty.out" "/etc/projector/mappings: no mapping files"

# As the service runs it: the mappings and views in /etc/projector, settings from the
# environment file (the check line it documents), and one setting set there is read.
cp $DOC/examples/mappings/orders.json /etc/projector/mappings/
cp $DOC/examples/views/* /etc/projector/views/
echo "PROJECTOR_BATCH_MAX_EVENTS=0" >>/etc/default/projector
check_as_service() {
    (cd /etc/projector && runuser -u projector -- sh -c \
        'set -a; . /etc/default/projector; exec projector check')
}
expect_exit 2 "$WORK/svc_bad.out" check_as_service
expect_text "$WORK/svc_bad.out" "PROJECTOR_BATCH_MAX_EVENTS"
sed -i '$d' /etc/default/projector
echo "PROJECTOR_BATCH_MAX_EVENTS=2000" >>/etc/default/projector
expect_exit 0 "$WORK/svc.out" check_as_service
expect_text "$WORK/svc.out" "ok: 1 projection(s)"

# And `projector run` the same way, as the projector user: it projects the sample events into
# the read tables and search documents and stops cleanly on SIGTERM, as `systemctl stop` does.
"$ORDERS_GEN" --events 500 --brokers "$BROKERS" --topic order-events \
    --expect-dir "$WORK/expected" --quiet
total=$(count_of messages "$WORK/expected")
(cd /etc/projector && PROJECTOR_BROKERS=$BROKERS exec setpriv --reuid projector --regid projector \
    --init-groups sh -c 'set -a; . /etc/default/projector; exec /usr/bin/projector run' \
    >>"$WORK/service.log" 2>&1) &
svc_pid=$!
PIDS+=("$svc_pid")
wait_caught_up orders "$total" 120
[ "$(ps -o user= -p "$svc_pid" | tr -d ' ')" = projector ] || fail "the run is not the projector user's"
[ "$(readlink /proc/"$svc_pid"/exe)" = /usr/bin/projector ] || fail "the run is not /usr/bin/projector"
stop_clean "$svc_pid"
assert_orders_match "$WORK/expected"

# The units, offline. systemd-analyze warns about unknown keys with exit 0, so any output is a
# failure too; a unit with a bad key shows that the check can fail.
command -v systemd-analyze >/dev/null || apt_install systemd
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not available: the units are NOT verified"
verify_unit() {
    local out=$WORK/verify.out rc=0
    systemd-analyze verify "$1" >"$out" 2>&1 || rc=$?
    [ $rc -eq 0 ] && [ ! -s "$out" ] && return 0
    cat "$out" >&2
    return 1
}
mkdir -p "$WORK/units"
sed 's/^Restart=on-failure$/Restart=on-failure\nRestartTypo=yes/' $UNIT_DIR/projector.service \
    >"$WORK/units/projector.service"
! verify_unit "$WORK/units/projector.service" 2>/dev/null || fail "verify_unit accepts a bad key"
verify_unit $UNIT_DIR/projector.service || fail "systemd-analyze verify projector.service"
verify_unit "$UNIT_DIR/projector@.service" || fail "systemd-analyze verify projector@.service"
cp "$UNIT_DIR/projector@.service" "$WORK/units/projector@demo.service"
verify_unit "$WORK/units/projector@demo.service" || fail "systemd-analyze verify projector@demo.service"
grep -qx 'User=projector' $UNIT_DIR/projector.service || fail "the unit does not run as projector"
grep -qx 'RestartPreventExitStatus=2' $UNIT_DIR/projector.service || fail "the unit restarts exit 2"
echo "systemd-analyze verify: projector.service, projector@.service, projector@demo.service ok"

# A reinstall (an upgrade's path) keeps the edited environment file and its permissions.
dpkg -i "$deb" >"$WORK/reinstall.log" 2>&1 || { cat "$WORK/reinstall.log" >&2; fail "reinstall failed"; }
grep -qx "PROJECTOR_BATCH_MAX_EVENTS=2000" /etc/default/projector || fail "reinstall lost the edit"
[ "$(stat -c '%U:%G %a' /etc/default/projector)" = "root:projector 640" ] \
    || fail "after reinstall /etc/default/projector is $(stat -c '%U:%G %a' /etc/default/projector)"

# Remove: the binary and the units go, the environment file stays until the purge.
dpkg -r projector >"$WORK/remove.log" 2>&1 || { cat "$WORK/remove.log" >&2; fail "dpkg -r failed"; }
[ "$(pkg_state)" = rc ] || fail "package state after dpkg -r: $(pkg_state)"
for f in /usr/bin/projector $UNIT_DIR/projector.service "$UNIT_DIR/projector@.service" $DOC; do
    [ ! -e "$f" ] || fail "$f is left after dpkg -r"
done
[ -f /etc/default/projector ] || fail "dpkg -r removed the conffile"

# Purge: the environment file, the user and group go; the administrator's mappings stay.
dpkg -P projector >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log" >&2; fail "dpkg -P failed"; }
[ -z "$(pkg_state)" ] || fail "package state after dpkg -P: $(pkg_state)"
[ ! -e /etc/default/projector ] || fail "/etc/default/projector is left after dpkg -P"
! getent passwd projector >/dev/null || fail "the projector user is left after dpkg -P"
! getent group projector >/dev/null || fail "the projector group is left after dpkg -P"
[ -f /etc/projector/mappings/orders.json ] || fail "dpkg -P removed the administrator's mappings"
rm -rf /etc/projector
INSTALLED=""
echo "package: built, installed, checked, verified, removed and purged"

#!/bin/sh
# redis-load-check.sh SNAPSHOT WORKDIR: accepts an RDB snapshot only if a scratch redis-server
# loads it the way a restored Redis does: as the base of a multi-part AOF (appendonly on).
# redis-check-rdb alone is not enough: it passes a snapshot with trailing bytes that Redis then
# refuses to load as an AOF base ("Bad file format reading the append only file").
#
# WORKDIR must not exist and should be on the snapshot's filesystem (the base is hard-linked,
# copied if that fails). On success WORKDIR/appendonlydir holds the loaded AOF (base, empty
# increment, manifest), ready to be moved into a data directory; the caller removes WORKDIR.
# The scratch server listens on a unix socket inside WORKDIR only (no TCP port, no password).
# Exit status: 0 loaded, 1 refused or not loaded within REDIS_LOAD_CHECK_SECONDS (default 600).
# POSIX sh: runs in the Alpine Redis image.
set -eu

snapshot=${1:?usage: redis-load-check.sh SNAPSHOT WORKDIR}
work=${2:?usage: redis-load-check.sh SNAPSHOT WORKDIR}
wait_seconds=${REDIS_LOAD_CHECK_SECONDS:-600}
fail() {
  echo "redis-load-check: $*" >&2
  exit 1
}
[ -f "$snapshot" ] || fail "snapshot ${snapshot} does not exist"
[ ! -e "$work" ] || fail "${work} exists: remove it (a previous check was interrupted) and run again"

aof="${work}/appendonlydir"
mkdir -p "$aof"
ln "$snapshot" "${aof}/appendonly.aof.1.base.rdb" 2>/dev/null || cp "$snapshot" "${aof}/appendonly.aof.1.base.rdb"
: >"${aof}/appendonly.aof.1.incr.aof"
printf 'file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n' >"${aof}/appendonly.aof.manifest"

socket="${work}/redis.sock"
redis-server --port 0 --unixsocket "$socket" --unixsocketperm 700 --dir "$work" \
  --appendonly yes --appenddirname appendonlydir --appendfilename appendonly.aof --save '' \
  --logfile "${work}/redis.log" --daemonize no &
pid=$!
deadline=$(($(date +%s) + wait_seconds))
while :; do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid" || true
    echo "redis-load-check: redis-server refused ${snapshot}:" >&2
    tail -n 5 "${work}/redis.log" >&2 || true
    exit 1
  fi
  # PING answers LOADING while the data is being read.
  if [ "$(redis-cli -s "$socket" ping 2>/dev/null || true)" = PONG ]; then break; fi
  if [ "$(date +%s)" -gt "$deadline" ]; then
    kill -9 "$pid" 2>/dev/null || true
    fail "redis-server did not finish loading ${snapshot} within ${wait_seconds}s (REDIS_LOAD_CHECK_SECONDS)"
  fi
  sleep 0.2
done
keys=$(redis-cli -s "$socket" dbsize)
redis-cli -s "$socket" shutdown nosave >/dev/null 2>&1 || true
wait "$pid" || true
echo "redis-load-check: redis-server loaded ${snapshot} as an AOF base: ${keys} keys"

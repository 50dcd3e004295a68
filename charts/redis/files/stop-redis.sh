#!/bin/sh
# preStop hook of the redis container: a primary that is about to stop (rolling update, node
# drain) first hands over to a replica, so clients lose the primary for the second or two of a
# switchover instead of the seconds it takes the Sentinels to notice a primary that is gone.
# Sentinel's own switchover does not stop writes, so a write the old primary acknowledges in the
# moment of the switch (even one a replica confirmed to WAIT) could be lost. This hook therefore:
#   1. pauses writes on this primary (clients wait; nothing is refused yet),
#   2. waits until every replica has everything the primary acknowledged,
#   3. asks a Sentinel for the switchover (SENTINEL FAILOVER),
#   4. once the promoted replica reports itself the primary, makes this instance its replica and ends the
#      pause: the writes that waited now fail with READONLY and clients reconnect through HAProxy.
# A replica, or an instance without Sentinels, stops at once. Always exits 0: a failed handover
# must not keep the pod from stopping (the Sentinels then fail over as usual).
#
# Usage: stop-redis.sh [PORT]   (this instance's port, 6379)
# Environment: REDIS_PASSWORD, SENTINEL_HOSTS and REDIS_HOSTS ("host:port ..."), REDIS_PRIMARY_NAME,
# REDIS_ANNOUNCE_HOST and REDIS_ANNOUNCE_PORT (this instance's stable address); optional
# HANDOVER_SECONDS (20). The Sentinel beside this instance stops with the pod, so every Sentinel
# is asked.
set -u

[ -n "${SENTINEL_HOSTS:-}" ] || exit 0
port=${1:-6379}
handover=${HANDOVER_SECONDS:-20}
# shellcheck source=charts/redis/files/find-primary.sh
. "$(dirname "$0")/find-primary.sh"
local_redis() {
  ask "127.0.0.1:${port}" "$@"
}

info=$(local_redis INFO replication | tr -d '\r')
case "$info" in
  *role:master*) ;;
  *) exit 0 ;;
esac
case "$info" in
  *connected_slaves:0*)
    echo "stop-redis.sh: this primary has no replica to hand over to"
    exit 0
    ;;
esac

echo "stop-redis.sh: this instance is the primary: pausing writes and handing over to a replica"
local_redis CLIENT PAUSE "$((handover * 1000))" WRITE >/dev/null
finish() {
  local_redis CLIENT UNPAUSE >/dev/null
  echo "$1"
  exit 0
}

# Every replica at the primary's offset (at most 5 s: they are normally milliseconds behind).
waited=0
while [ "$waited" -lt 50 ]; do
  behind=$(local_redis INFO replication | tr -d '\r' | awk -F'[:,=]' '
    $1 == "master_repl_offset" { master = $2 }
    $1 ~ /^slave[0-9]+$/ { for (i = 2; i < NF; i += 2) if ($i == "offset") offsets[$1] = $(i + 1) }
    END { n = 0; for (s in offsets) if (offsets[s] != master) n++; print n }')
  [ "$behind" = 0 ] && break
  sleep 0.1
  waited=$((waited + 1))
done

asked=''
for sentinel in $SENTINEL_HOSTS; do
  if [ "$(ask "$sentinel" SENTINEL FAILOVER "$REDIS_PRIMARY_NAME")" = OK ]; then
    asked=$sentinel
    break
  fi
done
[ -n "$asked" ] || finish "stop-redis.sh: no Sentinel started a switchover: stopping anyway; they will fail over"

# The promoted replica reports role:master before the Sentinels finish reconfiguring the others:
# follow it as soon as it does.
self="${REDIS_ANNOUNCE_HOST:-}:${REDIS_ANNOUNCE_PORT:-}"
started=$(date +%s)
while [ $(($(date +%s) - started)) -lt "$handover" ]; do
  for instance in $REDIS_HOSTS; do
    [ "$instance" != "$self" ] || continue
    case "$(ask "$instance" INFO replication)" in
      *role:master*)
        local_redis REPLICAOF "${instance%:*}" "${instance##*:}" >/dev/null
        finish "stop-redis.sh: handed over to ${instance} after $(($(date +%s) - started))s"
        ;;
    esac
  done
  sleep 0.2
done
finish "stop-redis.sh: no switchover in ${handover}s: stopping anyway; the Sentinels will fail over"

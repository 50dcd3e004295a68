# shellcheck shell=sh
# Sourced by start-redis.sh and start-sentinel.sh: who is the Redis primary now?
# POSIX sh (the Redis image is Alpine/busybox). Needs REDIS_PASSWORD, which is also the Sentinels'.
#
#   primary_from_sentinels  asks every Sentinel in SENTINEL_HOSTS ("host:port ...") for the primary
#                           named REDIS_PRIMARY_NAME and prints "host port replicas" of the answer
#                           with the highest configuration epoch (the latest failover wins);
#                           returns 1 when no Sentinel answers.
#   primary_from_instances  asks every instance in REDIS_HOSTS ("host:port ...") for its role and
#                           prints "host port replicas" when exactly one is a primary; returns 1
#                           otherwise.

# One command to one server, at most 3 seconds, the password from the environment (not argv).
ask() {
  address=$1
  shift
  REDISCLI_AUTH=$REDIS_PASSWORD timeout 3 redis-cli --no-auth-warning -h "${address%:*}" -p "${address##*:}" "$@" 2>/dev/null
}

primary_from_sentinels() {
  best_epoch=-1
  best=''
  for sentinel in $SENTINEL_HOSTS; do
    # SENTINEL MASTER prints field names and values on alternate lines. An answer cut short (a
    # timeout mid-reply) lacks fields and counts as no answer: a missing replica count must never
    # read as "no replicas" and let a restarted primary come back as the primary.
    fields=$(ask "$sentinel" SENTINEL MASTER "$REDIS_PRIMARY_NAME") || continue
    answer=$(printf '%s\n' "$fields" | awk 'NR % 2 == 1 { key = $0; next } { v[key] = $0 }
      END { if (v["ip"] != "" && v["port"] ~ /^[0-9]+$/ && v["config-epoch"] ~ /^[0-9]+$/ && v["num-slaves"] ~ /^[0-9]+$/) print v["config-epoch"], v["ip"], v["port"], v["num-slaves"] }')
    [ -n "$answer" ] || continue
    epoch=${answer%% *}
    if [ "$epoch" -gt "$best_epoch" ]; then
      best_epoch=$epoch
      best=${answer#* }
    fi
  done
  [ -n "$best" ] || return 1
  echo "$best"
}

primary_from_instances() {
  found=''
  count=0
  for instance in $REDIS_HOSTS; do
    info=$(ask "$instance" INFO replication) || continue
    case "$info" in
      *role:master*)
        count=$((count + 1))
        replicas=$(printf '%s\n' "$info" | tr -d '\r' | awk -F: '$1 == "connected_slaves" { print $2 + 0 }')
        found="${instance%:*} ${instance##*:} ${replicas:-0}"
        ;;
    esac
  done
  [ "$count" -eq 1 ] || return 1
  echo "$found"
}

#!/bin/sh
# Starts Redis with the generated redis.conf and hands it the password on standard input, so the
# password is neither in the ConfigMap nor in the process arguments. exec makes redis-server the
# container's main process, so it receives SIGTERM and shuts down cleanly (fsync, final save).
#
# With Sentinels (SENTINEL_HOSTS set) it first asks them who the primary is and starts as its
# replica, or as the primary when they name this instance. A primary that restarts while the
# Sentinels know replicas does not come straight back as the primary: its append-only file may
# miss the last second of writes that a replica (and a client's WAIT) already has. It stays down
# until the Sentinels promote a replica, for at most PRIMARY_HANDOVER_SECONDS, then replicates.
#
# Usage: start-redis.sh CONFIG [redis-server options...]
#   always: REDIS_PASSWORD
#   with Sentinels: SENTINEL_HOSTS ("host:port ..."), REDIS_PRIMARY_NAME, REDIS_ANNOUNCE_HOST and
#   REDIS_ANNOUNCE_PORT (this instance's stable address); optional SENTINEL_WAIT_SECONDS (120),
#   PRIMARY_HANDOVER_SECONDS (90)
set -eu

config=${1:?usage: start-redis.sh CONFIG [redis-server options...]}
shift

if [ -z "${REDIS_PASSWORD:-}" ]; then
  echo "start-redis.sh: REDIS_PASSWORD is empty: set the redis-password key of the redis-credentials Secret" >&2
  exit 1
fi
case $REDIS_PASSWORD in
  *[!A-Za-z0-9._~+/=-]*)
    echo "start-redis.sh: REDIS_PASSWORD may only contain letters, digits and ._~+/=- (generate it as hex)" >&2
    exit 1
    ;;
esac

role_config=''
if [ -n "${SENTINEL_HOSTS:-}" ]; then
  : "${REDIS_PRIMARY_NAME:?}" "${REDIS_ANNOUNCE_HOST:?}" "${REDIS_ANNOUNCE_PORT:?}"
  # shellcheck source=charts/redis/files/find-primary.sh
  . "$(dirname "$0")/find-primary.sh"
  started=$(date +%s)
  while :; do
    waited=$(($(date +%s) - started))
    if answer=$(primary_from_sentinels); then
      read -r primary_host primary_port known_replicas <<ANSWER
$answer
ANSWER
      if [ "$primary_host" != "$REDIS_ANNOUNCE_HOST" ] || [ "$primary_port" != "$REDIS_ANNOUNCE_PORT" ]; then
        echo "start-redis.sh: the Sentinels name ${primary_host}:${primary_port} the primary: starting as its replica"
        role_config="replicaof ${primary_host} ${primary_port}"
        break
      fi
      if [ "$known_replicas" -eq 0 ]; then
        echo "start-redis.sh: the Sentinels name this instance the primary and know no replica: starting as the primary"
        break
      fi
      if [ "$waited" -ge "${PRIMARY_HANDOVER_SECONDS:-90}" ]; then
        echo "start-redis.sh: no replica was promoted in ${waited}s: starting as the primary with this instance's data" >&2
        break
      fi
      echo "start-redis.sh: the Sentinels still name this instance the primary and know ${known_replicas} replica(s): waiting for them to promote one"
    elif [ "$waited" -ge "${SENTINEL_WAIT_SECONDS:-120}" ]; then
      echo "start-redis.sh: no Sentinel of ${SENTINEL_HOSTS} answered in ${waited}s: not guessing which instance is the primary; check the sentinel containers" >&2
      exit 1
    fi
    sleep 2
  done
  # Replicas log in to the primary with the same password; Sentinels and clients reach this
  # instance by its stable name, not the pod address.
  role_config="masterauth ${REDIS_PASSWORD}
replica-announce-ip ${REDIS_ANNOUNCE_HOST}
replica-announce-port ${REDIS_ANNOUNCE_PORT}
${role_config}"
fi

# "-" as the last argument: read more configuration from standard input (Redis >= 7).
exec redis-server "$config" "$@" - <<EOF
requirepass $REDIS_PASSWORD
$role_config
EOF

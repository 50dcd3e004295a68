#!/bin/sh
# Starts Redis Sentinel. Sentinel rewrites its configuration file as it learns (the primary,
# replicas, other Sentinels, the configuration epoch), so the file lives in a writable folder,
# SENTINEL_STATE_DIR, and a restarted container keeps what it learned. A new pod writes it from
# the generated sentinel.conf and sentinel-primary.conf, monitoring the primary that the other
# Sentinels name (the latest failover wins); if none answers, the one instance that is a primary
# now; if there is none, REDIS_BOOTSTRAP_PRIMARY (a brand-new set).
#
# Usage: start-sentinel.sh CONFIG_DIR [redis-sentinel options...]
#   REDIS_PASSWORD (of the instances and of the Sentinels), SENTINEL_STATE_DIR, SENTINEL_HOSTS and
#   REDIS_HOSTS ("host:port ..."), REDIS_PRIMARY_NAME, REDIS_BOOTSTRAP_PRIMARY (host:port),
#   SENTINEL_QUORUM, SENTINEL_ANNOUNCE_HOST and SENTINEL_ANNOUNCE_PORT (this Sentinel's stable address)
set -eu

config_dir=${1:?usage: start-sentinel.sh CONFIG_DIR [redis-sentinel options...]}
shift
: "${REDIS_PASSWORD:?}" "${SENTINEL_STATE_DIR:?}" "${SENTINEL_HOSTS:?}" "${REDIS_HOSTS:?}" "${REDIS_PRIMARY_NAME:?}"
: "${REDIS_BOOTSTRAP_PRIMARY:?}" "${SENTINEL_QUORUM:?}" "${SENTINEL_ANNOUNCE_HOST:?}" "${SENTINEL_ANNOUNCE_PORT:?}"
# shellcheck source=charts/redis/files/find-primary.sh
. "$(dirname "$0")/find-primary.sh"

conf="${SENTINEL_STATE_DIR}/sentinel.conf"
if grep -q '^sentinel monitor ' "$conf" 2>/dev/null; then
  echo "start-sentinel.sh: keeping what this Sentinel learned (${conf})"
else
  if answer=$(primary_from_sentinels); then
    source='the other Sentinels'
  elif answer=$(primary_from_instances); then
    source='the instances (no Sentinel answered)'
  else
    answer="${REDIS_BOOTSTRAP_PRIMARY%:*} ${REDIS_BOOTSTRAP_PRIMARY##*:} 0"
    source='the bootstrap setting (no Sentinel answered, no instance is a primary)'
  fi
  read -r primary_host primary_port _ <<ANSWER
$answer
ANSWER
  echo "start-sentinel.sh: monitoring ${primary_host}:${primary_port}, the primary according to ${source}"
  umask 077
  {
    cat "${config_dir}/sentinel.conf"
    echo "dir ${SENTINEL_STATE_DIR}"
    echo "sentinel announce-ip ${SENTINEL_ANNOUNCE_HOST}"
    echo "sentinel announce-port ${SENTINEL_ANNOUNCE_PORT}"
    echo "requirepass ${REDIS_PASSWORD}"
    echo "sentinel monitor ${REDIS_PRIMARY_NAME} ${primary_host} ${primary_port} ${SENTINEL_QUORUM}"
    echo "sentinel auth-pass ${REDIS_PRIMARY_NAME} ${REDIS_PASSWORD}"
    cat "${config_dir}/sentinel-primary.conf"
  } >"${conf}.new"
  mv "${conf}.new" "$conf"
fi
exec redis-sentinel "$conf" "$@"

#!/bin/sh
# Starts Redis with the generated redis.conf and hands it the password on standard input, so the
# password is neither in the ConfigMap nor in the process arguments. exec makes redis-server the
# container's main process, so it receives SIGTERM and shuts down cleanly (fsync, final save).
#
# Usage: start-redis.sh CONFIG [redis-server options...]   with REDIS_PASSWORD set
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

# "-" as the last argument: read more configuration from standard input (Redis >= 7).
exec redis-server "$config" "$@" - <<EOF
requirepass $REDIS_PASSWORD
EOF

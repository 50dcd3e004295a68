#!/bin/sh
# pgsodium's and Vault's getkey script under CloudNativePG: prints the root key that every
# instance and every recovery reads from the same Secret (mounted through the Cluster's projected
# volume). The image's own script generates a random key when the file is missing, which would
# give each instance a different key and make Vault's secrets unreadable after a failover: this
# one fails instead, and the server does not start without the key.
set -eu
key_file=/projected/pgsodium/root.key
if [ ! -s "$key_file" ]; then
  echo "pgsodium getkey: $key_file is missing or empty: the postgres-pgsodium Secret must hold root-key" >&2
  exit 1
fi
key=$(cat "$key_file")
case $key in
  *[!0-9a-f]*)
    echo "pgsodium getkey: the root key must be 64 lowercase hex characters" >&2
    exit 1
    ;;
esac
if [ "${#key}" -ne 64 ]; then
  echo "pgsodium getkey: the root key has ${#key} characters, not 64" >&2
  exit 1
fi
printf '%s' "$key"

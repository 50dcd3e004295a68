#!/bin/sh
# Prepares /etc/postgresql-custom on its volume before PostgreSQL starts: copies in the image's
# own files (supautils.conf, extension scripts) so an image upgrade brings its versions, and puts
# the pgsodium root key from the Secret in place. A key already on the volume that differs from
# the Secret stops the pod: replacing it would make every pgsodium/Vault secret unreadable.
#
# Usage: prepare-custom-config.sh IMAGE_DIR VOLUME_DIR   with PGSODIUM_ROOT_KEY set (64 hex characters)
set -eu

image_dir=${1:?usage: prepare-custom-config.sh IMAGE_DIR VOLUME_DIR}
volume_dir=${2:?usage: prepare-custom-config.sh IMAGE_DIR VOLUME_DIR}
key_file=$volume_dir/pgsodium_root.key

case ${PGSODIUM_ROOT_KEY:-} in
  '' | *[!0-9a-f]*)
    echo "prepare-custom-config.sh: PGSODIUM_ROOT_KEY must be 64 lowercase hex characters (the postgres-pgsodium Secret)" >&2
    exit 1
    ;;
esac
if [ "${#PGSODIUM_ROOT_KEY}" -ne 64 ]; then
  echo "prepare-custom-config.sh: PGSODIUM_ROOT_KEY has ${#PGSODIUM_ROOT_KEY} characters, not 64" >&2
  exit 1
fi

cp -R "$image_dir/." "$volume_dir/"

if [ -f "$key_file" ]; then
  if [ "$(cat "$key_file")" != "$PGSODIUM_ROOT_KEY" ]; then
    echo "prepare-custom-config.sh: $key_file differs from the postgres-pgsodium Secret; refusing to replace it." >&2
    echo "Restore the Secret's original value (from the secret manager or a backup) before starting PostgreSQL." >&2
    exit 1
  fi
else
  umask 077
  printf '%s' "$PGSODIUM_ROOT_KEY" > "$key_file"
fi

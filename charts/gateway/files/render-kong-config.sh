#!/bin/sh
# Renders Kong's declarative config: copies the template and replaces each ${NAME} placeholder
# with the value of the environment variable NAME (set from Secrets), so keys and passwords never
# sit in a ConfigMap. Refuses empty values, values that could break the YAML, and placeholders
# left unfilled.
#
# Usage: render-kong-config.sh TEMPLATE OUTPUT NAME...
set -eu

template=${1:?usage: render-kong-config.sh TEMPLATE OUTPUT NAME...}
output=${2:?usage: render-kong-config.sh TEMPLATE OUTPUT NAME...}
shift 2

cp "$template" "$output.tmp"
for name in "$@"; do
  eval "value=\${$name:-}"
  if [ -z "$value" ]; then
    echo "render-kong-config.sh: $name is empty: set its key in the Secret it comes from" >&2
    exit 1
  fi
  case $value in
    *[!A-Za-z0-9._~+/=-]*)
      echo "render-kong-config.sh: $name may only contain letters, digits and ._~+/=-" >&2
      exit 1
      ;;
  esac
  sed "s|\${$name}|$value|g" "$output.tmp" > "$output.next"
  mv "$output.next" "$output.tmp"
done
# A literal "${NAME}" pattern, not an expansion.
# shellcheck disable=SC2016
placeholder='\${[A-Z_]*}'
if grep -q "$placeholder" "$output.tmp"; then
  echo "render-kong-config.sh: unfilled placeholders: $(grep -o "$placeholder" "$output.tmp" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi
mv "$output.tmp" "$output"

#!/bin/sh
# The container's entrypoint: secrets arrive as files (a Kubernetes Secret volume, a Docker
# secret), never as values in a manifest. For every KKMP_<NAME>_FILE=/path in the environment,
# KKMP_<NAME> is set to the file's content (a final newline dropped), e.g.
#   KKMP_SMTP_PASSWORD_FILE=/var/run/secrets/kkmp/smtp-password  ->  KKMP_SMTP_PASSWORD
# The Google key needs no such step: GOOGLE_APPLICATION_CREDENTIALS is already a file's path.
# A file named but missing is skipped quietly (a local-mode instance has no Google key, an
# outbox instance no SMTP password); `kkmp-sheets check` says when one is needed.
set -eu
for pair in $(env | sed -n 's/^\(KKMP_[A-Z0-9_]*\)_FILE=.*/\1/p'); do
  file=$(printenv "${pair}_FILE")
  if [ -r "$file" ]; then
    value=$(cat "$file")
    export "$pair=$value"
  fi
done
exec "$@"

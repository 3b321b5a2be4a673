#!/bin/sh
# pulumi-resource-sendgrid-segment: the sendgrid-segment Pulumi plugin on the Node.js found on PATH
# (@NODE_MAJOR@ or newer). The Pulumi engine runs this file with its address as the last argument;
# it runs pulumi-resource-sendgrid-segment.cjs from the folder this file is in (following symlinks).
# Only shell built-ins on the way (and readlink for a symlink), whatever PATH holds.
self=$0
while [ -h "$self" ]; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=${self%/*}/$link ;;
  esac
done
if ! command -v node >/dev/null 2>&1; then
  echo "pulumi-resource-sendgrid-segment: needs Node.js @NODE_MAJOR@ or newer on PATH, and finds no node" >&2
  exit 1
fi
case $self in
  */*) here=${self%/*} ;;
  *) here=. ;;
esac
exec node "$here/pulumi-resource-sendgrid-segment.cjs" "$@"

#!/bin/sh
# The paid application's stand-in in docker/Dockerfile.paid-app-example: shows
# what the guard handed it, then serves nothing until stopped.
echo "paid app running as PID $$ (user $(id -u)) with arguments: $*; hand-off token of ${#ENTITLED_TOKEN} bytes"
exec sleep infinity

#!/bin/bash
# healthcheck.sh [PATH] [PORT]: exits 0 when the installer's health endpoint answers 200
# on 127.0.0.1:PORT (default /readyz on 8080). Plain bash (/dev/tcp): the image needs no
# curl. PATH: /readyz (the application runs), /livez (the installer makes progress, also
# during a long update), /healthz.
path="${1:-/readyz}"
port="${2:-8080}"
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$path" >&3 || exit 1
IFS= read -r -t 5 status <&3 || exit 1
case "$status" in
    "HTTP/1."?" 200"*) exit 0 ;;
    *) echo "$path: ${status%$'\r'}"; exit 1 ;;
esac

#!/bin/sh
# The demo's stand-in for a vendor's application: started by the installer once the
# database is up to date, it runs until it is asked to stop, and stops cleanly.
echo "sample app: started as PID $$ by the installer, database is up to date"
trap 'echo "sample app: SIGTERM received, shutting down cleanly"; exit 0' TERM INT
while :; do
    sleep 1 &
    wait $!
done

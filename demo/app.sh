#!/bin/sh
# The demo's stand-in for a vendor's application: started by the installer once the
# database is up to date, it shows what it sees and exits.
echo "sample app: started as PID $$ by the installer, database is up to date"
echo "sample app: INSTALLER_DB_URL is in my environment, as the application needs it"
exit 0

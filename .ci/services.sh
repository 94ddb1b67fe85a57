#!/usr/bin/env bash
# Start PostgreSQL and Redis if they are not running (the machine normally starts them).
# Tests that need them then connect; nothing is skipped silently.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432
redis-cli -h 127.0.0.1 -p 6379 ping
# The database the PostgreSQL test pass names (pytest-django creates test_orchestrator from it).
# Two test runs starting at once may both try to create it: the loser's error is harmless, so
# check the outcome rather than the command.
has_db() { psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='orchestrator'" | grep -q 1; }
if ! has_db; then
    createdb -h 127.0.0.1 -U postgres orchestrator 2>/dev/null || true
    has_db || { echo "could not create the PostgreSQL database 'orchestrator'" >&2; exit 1; }
fi

#!/bin/sh
# Prints the URL of a scratch PostgreSQL database for the tests when a local server answers
# (trust auth on 127.0.0.1:5432, as on the project's machines); prints nothing otherwise,
# and the PostgreSQL cases skip with a reason.
host=${PGHOST:-127.0.0.1} port=${PGPORT:-5432} user=${PGUSER:-postgres}
# One scratch database per checkout, so two checkouts never drop each other's schema.
name=vpnshop_test_$(pwd | cksum | cut -d" " -f1)
command -v psql >/dev/null 2>&1 || exit 0
psql -h "$host" -p "$port" -U "$user" -d postgres -Atqc "select 1" >/dev/null 2>&1 || exit 0
psql -h "$host" -p "$port" -U "$user" -d postgres -Atqc \
  "select 1 from pg_database where datname = '$name'" | grep -q 1 ||
  psql -h "$host" -p "$port" -U "$user" -d postgres -qc "create database $name" >/dev/null
echo "postgresql+asyncpg://$user@$host:$port/$name"

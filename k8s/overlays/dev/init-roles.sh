#!/bin/sh
# Runs once, when the postgres image initialises an empty volume (docker-entrypoint-initdb.d), as the
# superuser. The same roles as production (README, "Deploying"): the owner runs the migrations, the
# pool logs in as eligo_app and works as eligo_service (created here so that eligo_app can join it;
# the migrations find it and grant it its privileges).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_password="$ELIGO_OWNER_PASSWORD" -v app_password="$ELIGO_APP_PASSWORD" <<'SQL'
CREATE ROLE eligo_owner LOGIN PASSWORD :'owner_password';
CREATE DATABASE eligo OWNER eligo_owner;
CREATE ROLE eligo_service NOLOGIN;
GRANT eligo_service TO eligo_owner;
CREATE ROLE eligo_app LOGIN PASSWORD :'app_password' IN ROLE eligo_service;
SQL

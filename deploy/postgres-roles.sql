-- PostgreSQL roles for the REMS database: run with psql as a superuser.
--
--   owner (rems_owner)  owns the database and the schema; migrations (`flask db upgrade`) run
--                       as it.
--   app (rems_app)      the app and its daily jobs (DATABASE_URL): reads and writes rows, may
--                       not change the schema, and may only INSERT and SELECT the audit trail
--                       (audit_event), so it can neither rewrite history nor disable the
--                       triggers that guard it.
--
-- The database and role names are psql variables: dbname (default rems), owner (rems_owner)
-- and app (rems_app); pass the same ones every time, e.g. -v dbname=rems_staging.
-- First run (creates the roles and the database; choose the passwords):
--   sudo -u postgres psql -v dbname=rems -v owner_password="'…'" -v app_password="'…'" \
--     -f deploy/postgres-roles.sql
-- After every `flask db upgrade` (grants on tables the migration created):
--   sudo -u postgres psql -v dbname=rems -f deploy/postgres-roles.sql
-- Every statement is safe to repeat.

\set ON_ERROR_STOP on
\if :{?dbname}
\else
  \set dbname rems
\endif
\if :{?owner}
\else
  \set owner rems_owner
\endif
\if :{?app}
\else
  \set app rems_app
\endif

SELECT :{?owner_password} AS have_passwords \gset
\if :have_passwords
  SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'owner', :owner_password)
   WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
  SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'app', :app_password)
   WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app') \gexec
  SELECT format('CREATE DATABASE %I OWNER %I', :'dbname', :'owner')
   WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'dbname') \gexec
\endif

\connect :"dbname"

REVOKE ALL ON DATABASE :"dbname" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"dbname" TO :"app";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";

-- Tables and sequences the owner creates from now on: rows only, for the app.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- Tables that exist already.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The audit trail and the access log are append-only for the app (as `flask rems grant-app-role`).
SELECT format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_event FROM %I', :'app')
 WHERE to_regclass('public.audit_event') IS NOT NULL \gexec
SELECT format('REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON record_access FROM %I', :'app')
 WHERE to_regclass('public.record_access') IS NOT NULL \gexec
-- Alembic's bookkeeping belongs to the owner alone.
SELECT format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM %I', :'app')
 WHERE to_regclass('public.alembic_version') IS NOT NULL \gexec

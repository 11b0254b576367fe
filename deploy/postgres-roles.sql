-- PostgreSQL roles for the REMS database: run with psql as a superuser.
--
--   rems_owner  owns the database and the schema; migrations (`flask db upgrade`) run as it.
--   rems_app    the app and its daily jobs (DATABASE_URL): reads and writes rows, may not change
--               the schema, and may only INSERT and SELECT the audit trail (audit_event), so it
--               can neither rewrite history nor disable the triggers that guard it.
--
-- First run (creates the roles and the database; choose the passwords):
--   sudo -u postgres psql -v owner_password="'…'" -v app_password="'…'" -f deploy/postgres-roles.sql
-- After every `flask db upgrade` (grants on tables the migration created):
--   sudo -u postgres psql -d rems -f deploy/postgres-roles.sql
-- Every statement is safe to repeat.

\set ON_ERROR_STOP on

SELECT :{?owner_password} AS have_passwords \gset
\if :have_passwords
  SELECT format('CREATE ROLE rems_owner LOGIN PASSWORD %L', :owner_password)
   WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rems_owner') \gexec
  SELECT format('CREATE ROLE rems_app LOGIN PASSWORD %L', :app_password)
   WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rems_app') \gexec
  SELECT 'CREATE DATABASE rems OWNER rems_owner'
   WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'rems') \gexec
\endif

\connect rems

REVOKE ALL ON DATABASE rems FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE rems TO rems_app;
ALTER SCHEMA public OWNER TO rems_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO rems_app;

-- Tables and sequences the owner creates from now on: rows only, for the app.
ALTER DEFAULT PRIVILEGES FOR ROLE rems_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO rems_app;
ALTER DEFAULT PRIVILEGES FOR ROLE rems_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO rems_app;

-- Tables that exist already.
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO rems_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO rems_app;

-- The audit trail and the access log are append-only for the app (as `flask rems grant-app-role`).
SELECT 'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_event FROM rems_app'
 WHERE to_regclass('public.audit_event') IS NOT NULL \gexec
SELECT 'REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON record_access FROM rems_app'
 WHERE to_regclass('public.record_access') IS NOT NULL \gexec
-- Alembic's bookkeeping belongs to the owner alone.
SELECT 'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM rems_app'
 WHERE to_regclass('public.alembic_version') IS NOT NULL \gexec

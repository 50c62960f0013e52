-- yongjin: least-privilege ClickHouse users for current ClickHouse (SQL
-- access control: 20.5 and later, with access_management enabled for the
-- admin running this). ClickHouse 18.16 has no GRANTs: see
-- deploy/clickhouse/users.d/yongjin-sink.xml and docs/SECURITY.md.
--
-- Replace the hashes: echo -n "$PASSWORD" | sha256sum
-- (sha256_hash keeps the password itself out of query_log.)

-- The sink: writes events and reads its schema version. It may not create,
-- alter or drop anything; run it with --clickhouse-migrate=false.
CREATE USER IF NOT EXISTS yongjin_sink
    IDENTIFIED WITH sha256_hash BY 'REPLACE_WITH_SHA256_HEX_OF_THE_SINK_PASSWORD'
    HOST IP '10.0.0.0/8', LOCAL
    DEFAULT DATABASE yongjin;
GRANT INSERT, SELECT ON yongjin.* TO yongjin_sink;

-- The migrator: `sink migrate` (at each release, before the sinks start).
-- Creates the database, the tables and the materialized views, adds columns
-- (migration 4) and backfills new tables from existing ones (INSERT ... SELECT).
-- On a cluster (--clickhouse-cluster) also GRANT CLUSTER ON *.*, and with
-- --clickhouse-sharded DROP TABLE ON yongjin.* (a migration that adds columns
-- creates the Distributed tables again).
CREATE USER IF NOT EXISTS yongjin_migrator
    IDENTIFIED WITH sha256_hash BY 'REPLACE_WITH_SHA256_HEX_OF_THE_MIGRATOR_PASSWORD'
    HOST LOCAL;
GRANT CREATE DATABASE ON yongjin.* TO yongjin_migrator;
GRANT CREATE TABLE, CREATE VIEW, SELECT, INSERT, ALTER ADD COLUMN ON yongjin.* TO yongjin_migrator;

-- Dashboards and analysts: read only.
-- CREATE USER IF NOT EXISTS yongjin_reader IDENTIFIED WITH sha256_hash BY '...';
-- GRANT SELECT ON yongjin.* TO yongjin_reader;

-- yongjin schema migrations for ClickHouse 26.7 on cluster prod, database `yongjin` (current schema), rendered without a server.
-- Nothing below has been executed. Known migrations: 5; pending: 5.

-- Bootstrap (run at every migrate; idempotent).
CREATE DATABASE IF NOT EXISTS `yongjin` ON CLUSTER `prod`;

CREATE TABLE IF NOT EXISTS `yongjin`.schema_migrations ON CLUSTER `prod`
(
    version    UInt32,
    name       String,
    applied_at DateTime
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/yongjin/schema_migrations', '{replica}')
ORDER BY version;

-- Migration 1: orders and commission_lines
CREATE TABLE IF NOT EXISTS `yongjin`.orders ON CLUSTER `prod`
(
    platform           LowCardinality(String),
    account            LowCardinality(String),
    order_id           String,
    parent_order_id    String,
    product_id         String,
    product_name       String CODEC(ZSTD(1)),
    shop_id            String,
    shop_name          String CODEC(ZSTD(1)),
    author_id          String,
    author_name        String CODEC(ZSTD(1)),
    buyer_open_id      String CODEC(ZSTD(1)),
    channel            LowCardinality(String),
    quantity           Int64,
    currency           LowCardinality(String),
    paid_fen           Int64,
    estimated_base_fen Int64,
    settled_base_fen   Int64,
    status             LowCardinality(String),
    vendor_status      LowCardinality(String),
    paid_at            DateTime('UTC') CODEC(Delta, ZSTD(1)),
    updated_at         DateTime('UTC') CODEC(Delta, ZSTD(1)),
    received_at        Nullable(DateTime('UTC')),
    settled_at         Nullable(DateTime('UTC')),
    refunded_at        Nullable(DateTime('UTC')),
    version            UInt64 CODEC(Delta, ZSTD(1)),
    event_id           String CODEC(ZSTD(1)),
    ingested_at        DateTime64(3, 'UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/yongjin/orders', '{replica}', version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1;

CREATE TABLE IF NOT EXISTS `yongjin`.commission_lines ON CLUSTER `prod`
(
    platform      LowCardinality(String),
    account       LowCardinality(String),
    order_id      String,
    role          LowCardinality(String),
    rate_bp       Int64,
    currency      LowCardinality(String),
    estimated_fen Int64,
    settled_fen   Int64,
    order_status  LowCardinality(String),
    paid_at       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    updated_at    DateTime('UTC') CODEC(Delta, ZSTD(1)),
    version       UInt64 CODEC(Delta, ZSTD(1)),
    event_id      String CODEC(ZSTD(1)),
    ingested_at   DateTime64(3, 'UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/yongjin/commission_lines', '{replica}', version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id, role)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1;

-- Recorded afterwards (sent as a native batch):
INSERT INTO `yongjin`.schema_migrations (version, name, applied_at) VALUES (1, 'orders and commission_lines', now());

-- Migration 2: commission_plans and creator_snapshots
CREATE TABLE IF NOT EXISTS `yongjin`.commission_plans ON CLUSTER `prod`
(
    platform           LowCardinality(String),
    account            LowCardinality(String),
    product_id         String,
    plan_id            String,
    rate_bp            Int64,
    content_type       Int64,
    content_type_label LowCardinality(String),
    vendor_status      Int64,
    created_date       String,
    observed_at        DateTime('UTC'),
    version            UInt64,
    event_id           String,
    ingested_at        DateTime64(3, 'UTC') DEFAULT now()
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/yongjin/commission_plans', '{replica}', version)
ORDER BY (platform, product_id, plan_id);

CREATE TABLE IF NOT EXISTS `yongjin`.creator_snapshots ON CLUSTER `prod`
(
    platform         LowCardinality(String),
    account          LowCardinality(String),
    author_id        String,
    period           LowCardinality(String),
    snapshot_date    Date,
    indicator_names  Array(LowCardinality(String)),
    indicator_values Array(Float64),
    data             String CODEC(ZSTD(3)),
    observed_at      DateTime('UTC'),
    version          UInt64,
    event_id         String,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now()
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/yongjin/creator_snapshots', '{replica}', version)
PARTITION BY toYYYYMM(snapshot_date)
ORDER BY (platform, author_id, period, snapshot_date)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1;

-- Recorded afterwards (sent as a native batch):
INSERT INTO `yongjin`.schema_migrations (version, name, applied_at) VALUES (2, 'commission_plans and creator_snapshots', now());

-- Migration 3: commission_plan_history (every plan observation, for rate changes over time)
CREATE TABLE IF NOT EXISTS `yongjin`.commission_plan_history ON CLUSTER `prod`
(
    platform      LowCardinality(String),
    account       LowCardinality(String),
    product_id    String,
    plan_id       String,
    rate_bp       Int64,
    vendor_status Int64,
    observed_at   DateTime('UTC'),
    version       UInt64,
    ingested_at   DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/yongjin/commission_plan_history', '{replica}')
PARTITION BY toYYYYMM(observed_at)
ORDER BY (platform, product_id, plan_id, version);

CREATE MATERIALIZED VIEW IF NOT EXISTS `yongjin`.commission_plan_history_mv ON CLUSTER `prod`
TO `yongjin`.commission_plan_history
AS SELECT platform, account, product_id, plan_id, rate_bp, vendor_status, observed_at, version, ingested_at
FROM `yongjin`.commission_plans;

INSERT INTO `yongjin`.commission_plan_history
    (platform, account, product_id, plan_id, rate_bp, vendor_status, observed_at, version, ingested_at)
SELECT platform, account, product_id, plan_id, rate_bp, vendor_status, observed_at, version, ingested_at
FROM `yongjin`.commission_plans;

-- Recorded afterwards (sent as a native batch):
INSERT INTO `yongjin`.schema_migrations (version, name, applied_at) VALUES (3, 'commission_plan_history (every plan observation, for rate changes over time)', now());

-- Migration 4: refunded, total-commission and fee amounts (orders.refunded_fen, orders.estimated_total_commission_fen, commission_lines.fee_fen)
ALTER TABLE `yongjin`.orders ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS refunded_fen Int64 DEFAULT 0 AFTER settled_base_fen;

ALTER TABLE `yongjin`.orders ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS estimated_total_commission_fen Int64 DEFAULT 0 AFTER refunded_fen;

ALTER TABLE `yongjin`.commission_lines ON CLUSTER `prod` ADD COLUMN IF NOT EXISTS fee_fen Int64 DEFAULT 0 AFTER settled_fen;

-- Recorded afterwards (sent as a native batch):
INSERT INTO `yongjin`.schema_migrations (version, name, applied_at) VALUES (4, 'refunded, total-commission and fee amounts (orders.refunded_fen, orders.estimated_total_commission_fen, commission_lines.fee_fen)', now());

-- Migration 5: commission_lines_by_account (each account's commission lines of an order kept)
CREATE TABLE IF NOT EXISTS `yongjin`.commission_lines_by_account ON CLUSTER `prod`
(
    platform      LowCardinality(String),
    account       LowCardinality(String),
    order_id      String,
    role          LowCardinality(String),
    rate_bp       Int64,
    currency      LowCardinality(String),
    estimated_fen Int64,
    settled_fen   Int64,
    fee_fen       Int64,
    order_status  LowCardinality(String),
    paid_at       DateTime('UTC') CODEC(Delta, ZSTD(1)),
    updated_at    DateTime('UTC') CODEC(Delta, ZSTD(1)),
    version       UInt64 CODEC(Delta, ZSTD(1)),
    event_id      String CODEC(ZSTD(1)),
    ingested_at   DateTime64(3, 'UTC') DEFAULT now() CODEC(Delta, ZSTD(1))
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/yongjin/commission_lines_by_account', '{replica}', version)
PARTITION BY toYYYYMM(paid_at)
ORDER BY (platform, order_id, account, role)
SETTINGS min_age_to_force_merge_seconds = 3600, min_age_to_force_merge_on_partition_only = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS `yongjin`.commission_lines_by_account_mv ON CLUSTER `prod`
TO `yongjin`.commission_lines_by_account
AS SELECT platform, account, order_id, role, rate_bp, currency, estimated_fen, settled_fen, fee_fen,
          order_status, paid_at, updated_at, version, event_id, ingested_at
FROM `yongjin`.commission_lines;

INSERT INTO `yongjin`.commission_lines_by_account
    (platform, account, order_id, role, rate_bp, currency, estimated_fen, settled_fen, fee_fen,
     order_status, paid_at, updated_at, version, event_id, ingested_at)
SELECT platform, account, order_id, role, rate_bp, currency, estimated_fen, settled_fen, fee_fen,
       order_status, paid_at, updated_at, version, event_id, ingested_at
FROM `yongjin`.commission_lines;

-- Recorded afterwards (sent as a native batch):
INSERT INTO `yongjin`.schema_migrations (version, name, applied_at) VALUES (5, 'commission_lines_by_account (each account\'s commission lines of an order kept)', now());


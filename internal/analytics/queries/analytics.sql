-- yongjin's shipped analytics queries.
--
-- These are the exact queries the (*clickhouse.Store) analytics methods run
-- (the Go code embeds this file) and the built-in dashboard (`sink dashboard`,
-- devstack) draws. They work on ClickHouse 18.16 and current releases.
--
-- Parameters are written the way the Grafana ClickHouse data source plugin
-- (grafana-clickhouse-datasource) writes them, so every query pastes into a
-- Grafana panel unchanged; the Go code expands them the same way:
--
--   $__timeFilter(col)      col >= toDateTime(<from>) AND col <= toDateTime(<to>)
--                           (Unix seconds, both ends included)
--   $__fromTime, $__toTime  toDateTime(<from>), toDateTime(<to>)
--   ${platform:singlequote} the selected platforms, quoted: 'douke','xingtu'
--                           (all of them -- the result of `platforms` -- when
--                           none is selected, as Grafana's "All" does)
--   ${role:singlequote}     the commission roles that count as our commission
--                           (default 'creator': the creator's commission income)
--   ${period:singlequote}   Xingtu snapshot periods (e.g. 'DAY_30')
--   ${indicator:singlequote} one Xingtu indicator name (e.g. 'order_cnt')
--   ${top}                  how many rows a top list keeps (e.g. 10)
--
-- To run one by hand in clickhouse-client, replace them, e.g.
--   $__timeFilter(paid_at)  -> paid_at >= toDateTime('2026-10-01 00:00:00', 'Asia/Shanghai')
--                              AND paid_at <= toDateTime('2026-10-31 23:59:59', 'Asia/Shanghai')
--   ${platform:singlequote} -> 'douke','taobao-live'
-- The tables live in the database `yongjin` unless the sink was configured
-- with another one; the Go code substitutes its database for "yongjin." here.
--
-- Never double-counting: orders, commission_lines_by_account, commission_plans
-- and creator_snapshots are ReplacingMergeTree tables that hold every version of
-- a record, and again whenever an event is redelivered or re-polled. Every
-- query reads them with FINAL (the latest version of each natural key). A
-- WHERE inside a FINAL subquery filters only columns that are equal in every
-- version of a record: key columns (platform, account, order_id, role, product_id,
-- plan_id, author_id, period, snapshot_date) and paid_at / observed_at (the
-- partition key, which never changes for a record); anything else (status,
-- settled_at, ingested_at, indicator names) is filtered outside, on the
-- subquery's result, so an old version can never come back.
--
-- Money: amounts are stored in fen (Int64); the queries return yuan as
-- Decimal(18, 2) -- toDecimal64(fen, 2) / 100 -- which is exact.
-- Days are China Standard Time days (Asia/Shanghai), the vendors' calendar.
--
-- Commission facts. Per order (latest version), the commission of the
-- selected roles (sum of their latest lines), then:
--   estimated  = estimated_fen of orders neither refunded nor cancelled
--   settled    = settled_fen of orders neither refunded nor cancelled
--   refunded   = the commission refunded orders would have earned:
--                intDiv(estimated_base_fen * rate_bp, 10000) with rate_bp the
--                sum of the selected roles' rates (vendors zero the amounts of
--                a refunded order, also one refunded after settlement)
--   refund rate = refunded orders / orders (every status), by pay day.

-- name: platforms
-- Every platform (vendor) with data: the Grafana variable `platform`, and
-- what "all platforms" means. Reads key columns only, so versions do not matter.
SELECT DISTINCT platform
FROM
(
    SELECT platform FROM yongjin.orders
    UNION ALL
    SELECT platform FROM yongjin.commission_plans
    UNION ALL
    SELECT platform FROM yongjin.creator_snapshots
)
ORDER BY platform;

-- name: pay_time_range
-- The first and last pay time of the selected platforms' orders, and whether
-- there are any (the built-in dashboard's default date range). paid_at is the
-- same in every version of an order, so min and max need no FINAL.
SELECT
    count() > 0  AS has_orders,
    min(paid_at) AS first_paid_at,
    max(paid_at) AS last_paid_at
FROM yongjin.orders
WHERE platform IN (${platform:singlequote});

-- name: commission_daily
-- Commission per CST pay day x platform x account x creator x shop. The
-- account is the one that reported the commission lines: an order two
-- accounts report is on both accounts' rows, each with its own commission
-- (so its paid amount is on both: add paid_yuan across accounts only with
-- that in mind; every other query counts an order once).
SELECT
    toDate(paid_at, 'Asia/Shanghai')                     AS day,
    platform,
    account,
    author_id,
    max(author_name)                                     AS author_name,
    shop_id,
    max(shop_name)                                       AS shop_name,
    count()                                              AS orders,
    countIf(status = 'refunded')                         AS refunded_orders,
    toDecimal64(sum(paid_fen), 2) / 100                  AS paid_yuan,
    toDecimal64(sumIf(estimated_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100 AS estimated_yuan,
    toDecimal64(sumIf(settled_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100   AS settled_yuan,
    toDecimal64(sumIf(intDiv(estimated_base_fen * rate_bp, 10000), status = 'refunded'), 2) / 100 AS refunded_yuan
FROM
(
    SELECT platform, order_id, author_id, author_name, shop_id, shop_name,
           paid_at, paid_fen, estimated_base_fen, status
    FROM yongjin.orders FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})
) AS o
ALL LEFT JOIN
(
    -- One row per account that reported the order: its own commission.
    SELECT platform, order_id, account,
           sum(estimated_fen) AS estimated_fen,
           sum(settled_fen)   AS settled_fen,
           sum(rate_bp)       AS rate_bp
    FROM yongjin.commission_lines_by_account FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote}) AND role IN (${role:singlequote})
    GROUP BY platform, account, order_id
) AS c USING (platform, order_id)
GROUP BY day, platform, account, author_id, shop_id
ORDER BY day, platform, account, author_id, shop_id;

-- name: commission_by_platform_day
-- Commission per CST pay day and platform (the over-time charts).
SELECT
    toDate(paid_at, 'Asia/Shanghai')                     AS day,
    platform,
    count()                                              AS orders,
    countIf(status = 'refunded')                         AS refunded_orders,
    toDecimal64(sum(paid_fen), 2) / 100                  AS paid_yuan,
    toDecimal64(sumIf(estimated_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100 AS estimated_yuan,
    toDecimal64(sumIf(settled_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100   AS settled_yuan,
    toDecimal64(sumIf(intDiv(estimated_base_fen * rate_bp, 10000), status = 'refunded'), 2) / 100 AS refunded_yuan
FROM
(
    SELECT platform, order_id, paid_at, paid_fen, estimated_base_fen, status
    FROM yongjin.orders FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})
) AS o
ANY LEFT JOIN
(
    SELECT platform, order_id,
           sum(estimated_fen) AS estimated_fen,
           sum(settled_fen)   AS settled_fen,
           sum(rate_bp)       AS rate_bp
    FROM yongjin.commission_lines_by_account FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote}) AND role IN (${role:singlequote})
    GROUP BY platform, order_id
) AS c USING (platform, order_id)
GROUP BY day, platform
ORDER BY day, platform;

-- name: refunds_daily
-- Orders and refunds per CST pay day and platform: how many orders, how many
-- were refunded (of them, how many after settlement), how many cancelled,
-- and what buyers paid for all of them and for the refunded ones.
SELECT
    toDate(paid_at, 'Asia/Shanghai')                             AS day,
    platform,
    count()                                                      AS orders,
    countIf(status = 'refunded')                                 AS refunded_orders,
    countIf(status = 'refunded' AND settled_at IS NOT NULL)      AS refunded_after_settlement,
    countIf(status = 'cancelled')                                AS cancelled_orders,
    toDecimal64(sum(paid_fen), 2) / 100                          AS paid_yuan,
    toDecimal64(sumIf(paid_fen, status = 'refunded'), 2) / 100   AS refunded_paid_yuan
FROM
(
    SELECT platform, paid_at, paid_fen, status, settled_at
    FROM yongjin.orders FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})
)
GROUP BY day, platform
ORDER BY day, platform;

-- name: refund_amounts_daily
-- Refunds by amount per CST pay day and platform (the refund rate by amount,
-- next to refunds_daily's rate by count): what buyers paid, what was
-- refunded (orders.refunded_fen: partial refunds count with their amount,
-- also refunds after settlement), how many orders were refunded in part
-- (0 < refunded < paid), and refunded / paid in basis points (0 without
-- payments). Rows written before refunded_fen existed read 0.
SELECT
    toDate(paid_at, 'Asia/Shanghai')                                   AS day,
    platform,
    count()                                                            AS orders,
    countIf(refunded_fen > 0)                                          AS orders_with_refund,
    countIf(refunded_fen > 0 AND refunded_fen < paid_fen)              AS partially_refunded_orders,
    toDecimal64(sum(paid_fen), 2) / 100                                AS paid_yuan,
    toDecimal64(sum(refunded_fen), 2) / 100                            AS refunded_yuan,
    if(sum(paid_fen) = 0, 0, intDiv(sum(refunded_fen) * 10000, sum(paid_fen))) AS refund_rate_bp
FROM
(
    SELECT platform, paid_at, paid_fen, refunded_fen
    FROM yongjin.orders FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})
)
GROUP BY day, platform
ORDER BY day, platform;

-- name: settlement_lag
-- Paid -> settled, per platform, for the orders paid in the range that were
-- settled (also those refunded after settlement): how many, and the mean,
-- median and 90th percentile of the lag in hours. The quantiles are exact
-- (quantileExact: the value at position floor(level * n) of the sorted lags).
SELECT
    platform,
    count()                           AS settled_orders,
    avg(lag_s) / 3600                 AS avg_lag_hours,
    quantileExact(0.5)(lag_s) / 3600  AS median_lag_hours,
    quantileExact(0.9)(lag_s) / 3600  AS p90_lag_hours
FROM
(
    SELECT platform, toInt64(assumeNotNull(settled_at)) - toInt64(paid_at) AS lag_s
    FROM
    (
        SELECT platform, paid_at, settled_at
        FROM yongjin.orders FINAL
        WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})
    )
    WHERE settled_at IS NOT NULL
)
GROUP BY platform
ORDER BY platform;

-- name: top_creators
-- The creators (per platform) with the most estimated commission.
SELECT
    platform,
    author_id,
    max(author_name)                                     AS author_name,
    count()                                              AS orders,
    countIf(status = 'refunded')                         AS refunded_orders,
    toDecimal64(sum(paid_fen), 2) / 100                  AS paid_yuan,
    toDecimal64(sumIf(estimated_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100 AS estimated_yuan,
    toDecimal64(sumIf(settled_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100   AS settled_yuan,
    toDecimal64(sumIf(intDiv(estimated_base_fen * rate_bp, 10000), status = 'refunded'), 2) / 100 AS refunded_yuan
FROM
(
    SELECT platform, order_id, author_id, author_name, paid_at, paid_fen, estimated_base_fen, status
    FROM yongjin.orders FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})
) AS o
ANY LEFT JOIN
(
    SELECT platform, order_id,
           sum(estimated_fen) AS estimated_fen,
           sum(settled_fen)   AS settled_fen,
           sum(rate_bp)       AS rate_bp
    FROM yongjin.commission_lines_by_account FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote}) AND role IN (${role:singlequote})
    GROUP BY platform, order_id
) AS c USING (platform, order_id)
GROUP BY platform, author_id
ORDER BY estimated_yuan DESC, settled_yuan DESC, platform, author_id
LIMIT ${top};

-- name: top_products
-- The products (per platform) with the most estimated commission.
SELECT
    platform,
    product_id,
    max(product_name)                                    AS product_name,
    count()                                              AS orders,
    countIf(status = 'refunded')                         AS refunded_orders,
    toDecimal64(sum(paid_fen), 2) / 100                  AS paid_yuan,
    toDecimal64(sumIf(estimated_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100 AS estimated_yuan,
    toDecimal64(sumIf(settled_fen, status NOT IN ('refunded', 'cancelled')), 2) / 100   AS settled_yuan,
    toDecimal64(sumIf(intDiv(estimated_base_fen * rate_bp, 10000), status = 'refunded'), 2) / 100 AS refunded_yuan
FROM
(
    SELECT platform, order_id, product_id, product_name, paid_at, paid_fen, estimated_base_fen, status
    FROM yongjin.orders FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote})
) AS o
ANY LEFT JOIN
(
    SELECT platform, order_id,
           sum(estimated_fen) AS estimated_fen,
           sum(settled_fen)   AS settled_fen,
           sum(rate_bp)       AS rate_bp
    FROM yongjin.commission_lines_by_account FINAL
    WHERE $__timeFilter(paid_at) AND platform IN (${platform:singlequote}) AND role IN (${role:singlequote})
    GROUP BY platform, order_id
) AS c USING (platform, order_id)
GROUP BY platform, product_id
ORDER BY estimated_yuan DESC, settled_yuan DESC, platform, product_id
LIMIT ${top};

-- name: plan_rates_daily
-- Each commission plan's rate (basis points) per CST day it was observed:
-- the newest observation of the day. From commission_plan_history, which
-- keeps every observation (commission_plans keeps only the newest).
SELECT
    toDate(observed_at, 'Asia/Shanghai') AS day,
    platform,
    product_id,
    plan_id,
    argMax(rate_bp, version)             AS rate_bp
FROM yongjin.commission_plan_history FINAL
WHERE $__timeFilter(observed_at) AND platform IN (${platform:singlequote})
GROUP BY day, platform, product_id, plan_id
ORDER BY day, platform, product_id, plan_id;

-- name: plan_rate_changes
-- Every change of a commission plan's rate observed in the range: when it
-- was first seen, the rate before and after. The observation before the
-- change may lie before the range.
SELECT
    platform,
    product_id,
    plan_id,
    tupleElement(obs[i], 3)     AS changed_at,
    tupleElement(obs[i - 1], 2) AS old_rate_bp,
    tupleElement(obs[i], 2)     AS new_rate_bp
FROM
(
    SELECT platform, product_id, plan_id,
           arraySort(groupArray((version, rate_bp, observed_at))) AS obs
    FROM yongjin.commission_plan_history FINAL
    WHERE platform IN (${platform:singlequote})
    GROUP BY platform, product_id, plan_id
)
ARRAY JOIN arrayFilter(j -> j > 1 AND tupleElement(obs[j], 2) != tupleElement(obs[j - 1], 2), arrayEnumerate(obs)) AS i
WHERE $__timeFilter(changed_at)
ORDER BY changed_at, platform, product_id, plan_id;

-- name: creator_indicator_daily
-- One Xingtu creator indicator over time: its value in each creator's
-- snapshot per CST day and period (the newest observation of the day).
SELECT day, platform, author_id, period,
       indicator_values[indexOf(indicator_names, ${indicator:singlequote})] AS value
FROM
(
    SELECT snapshot_date AS day, platform, author_id, period, indicator_names, indicator_values
    FROM yongjin.creator_snapshots FINAL
    WHERE snapshot_date >= toDate($__fromTime, 'Asia/Shanghai')
      AND snapshot_date <= toDate($__toTime, 'Asia/Shanghai')
      AND platform IN (${platform:singlequote})
      AND period IN (${period:singlequote})
)
WHERE has(indicator_names, ${indicator:singlequote})
ORDER BY day, platform, author_id, period;

-- name: indicator_names
-- Every indicator name the creator snapshots hold (the Grafana variable `indicator`).
SELECT DISTINCT arrayJoin(indicator_names) AS indicator
FROM yongjin.creator_snapshots
ORDER BY indicator;

-- name: periods
-- Every snapshot period (the Grafana variable `period`). A key column.
SELECT DISTINCT period
FROM yongjin.creator_snapshots
ORDER BY period;

-- name: ingest_hourly
-- Pipeline health: records per hour (UTC) the sink wrote, per vendor and
-- kind: every record counts once, in the hour its latest version was
-- written (ingested_at).
SELECT time, platform, kind, count() AS records
FROM
(
    SELECT toStartOfHour(ingested_at) AS time, platform, kind
    FROM
    (
        SELECT platform, 'order' AS kind, ingested_at
        FROM yongjin.orders FINAL WHERE platform IN (${platform:singlequote})
        UNION ALL
        SELECT platform, 'commission' AS kind, ingested_at
        FROM yongjin.commission_lines_by_account FINAL WHERE platform IN (${platform:singlequote})
        UNION ALL
        SELECT platform, 'commission_plan' AS kind, ingested_at
        FROM yongjin.commission_plans FINAL WHERE platform IN (${platform:singlequote})
        UNION ALL
        SELECT platform, 'creator_experience' AS kind, ingested_at
        FROM yongjin.creator_snapshots FINAL WHERE platform IN (${platform:singlequote})
    )
    WHERE $__timeFilter(ingested_at)
)
GROUP BY time, platform, kind
ORDER BY time, platform, kind;

-- name: source_freshness
-- Pipeline health: per source (vendor and account) and kind, how many
-- records are stored, the newest vendor time among them (update time of
-- orders and lines, observation time of plans and snapshots) and when the
-- sink last wrote one. Not limited to a time range.
SELECT
    platform,
    account,
    kind,
    count()          AS records,
    max(event_time)  AS last_event_at,
    max(ingested_at) AS last_ingested_at
FROM
(
    SELECT platform, account, 'order' AS kind, updated_at AS event_time, ingested_at
    FROM yongjin.orders FINAL WHERE platform IN (${platform:singlequote})
    UNION ALL
    SELECT platform, account, 'commission' AS kind, updated_at AS event_time, ingested_at
    FROM yongjin.commission_lines_by_account FINAL WHERE platform IN (${platform:singlequote})
    UNION ALL
    SELECT platform, account, 'commission_plan' AS kind, observed_at AS event_time, ingested_at
    FROM yongjin.commission_plans FINAL WHERE platform IN (${platform:singlequote})
    UNION ALL
    SELECT platform, account, 'creator_experience' AS kind, observed_at AS event_time, ingested_at
    FROM yongjin.creator_snapshots FINAL WHERE platform IN (${platform:singlequote})
)
GROUP BY platform, account, kind
ORDER BY platform, account, kind;

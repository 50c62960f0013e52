-- yongjin's shipped summary queries.
--
-- These are the exact queries (*clickhouse.Store).Summary and CountOrders run
-- (the Go code embeds this file). They work on ClickHouse 18.16 and current
-- releases. Run them by hand with:
--
--   clickhouse-client --host 127.0.0.1 --port "$(scripts/clickhouse.sh addr | cut -d: -f2)" \
--       --multiquery < internal/clickhouse/queries/summary.sql
--
-- The tables live in the database `yongjin` unless the sink was configured
-- with another one; the Go code substitutes its configured database for
-- "yongjin." here.
--
-- Why FINAL: orders and commission_lines are ReplacingMergeTree tables that
-- receive every version of a record, and again whenever an event is
-- redelivered or re-polled. FINAL reads only the latest version of each
-- natural key (the highest `version`), so totals never double-count, before
-- or after background merges.
--
-- To restrict to one platform, either filter a key column before grouping
-- (WHERE platform = 'douke' right after FINAL; safe because platform is part
-- of the sorting key, so every version of a record shares it) or wrap the
-- query: SELECT * FROM (<query>) WHERE platform = 'douke', which is what the
-- Go code does. Never filter a non-key column (status, order_status, ...) in
-- the WHERE of a FINAL query: it may be applied before the latest version is
-- chosen and resurrect an old one. Filter such columns outside, on a
-- subquery's result.

-- name: orders_summary
-- Orders per platform and common status: how many, and what buyers paid (fen).
SELECT
    platform,
    status,
    count()       AS order_count,
    sum(paid_fen) AS paid_fen_total
FROM yongjin.orders FINAL
GROUP BY platform, status
ORDER BY platform, status;

-- name: commission_summary
-- Commission lines per platform, order status and role: how many, and their
-- estimated and settled amounts (fen).
SELECT
    platform,
    order_status,
    role,
    count()            AS line_count,
    sum(estimated_fen) AS estimated_fen_total,
    sum(settled_fen)   AS settled_fen_total
FROM yongjin.commission_lines FINAL
GROUP BY platform, order_status, role
ORDER BY platform, order_status, role;

-- name: count_orders
-- Distinct orders stored (latest versions only).
SELECT count() AS order_count
FROM yongjin.orders FINAL;

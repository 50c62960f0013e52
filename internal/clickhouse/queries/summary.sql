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
-- Why FINAL: orders and commission_lines_by_account are ReplacingMergeTree tables that
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
-- estimated and settled amounts (fen). Each account's lines count: when two
-- accounts report one order, both keep their commission (orders_summary
-- counts the order, and what the buyer paid, once).
SELECT
    platform,
    order_status,
    role,
    count()            AS line_count,
    sum(estimated_fen) AS estimated_fen_total,
    sum(settled_fen)   AS settled_fen_total
FROM yongjin.commission_lines_by_account FINAL
GROUP BY platform, order_status, role
ORDER BY platform, order_status, role;

-- name: count_orders
-- Distinct orders stored (latest versions only).
SELECT count() AS order_count
FROM yongjin.orders FINAL;

-- name: plans_summary
-- Commission plans per platform and vendor plan status: how many, and the sum
-- of their rates (basis points). Reference data: the newest observation of
-- each (platform, product_id, plan_id) counts once.
SELECT
    platform,
    vendor_status,
    count()      AS plan_count,
    sum(rate_bp) AS rate_bp_total
FROM yongjin.commission_plans FINAL
GROUP BY platform, vendor_status
ORDER BY platform, vendor_status;

-- name: snapshots_summary
-- Current creator order-experience indicators per platform and period: of
-- each creator's daily snapshots only the newest day counts (older days stay
-- in the table as history). How many creators, how many indicator values
-- their newest snapshots hold, and the sum of every value rounded to
-- thousandths, as an exact integer (Go: summary.MilliRound).
--
-- The rounding is spelled out instead of using round(): on Float64, round()
-- rounds halves to even on current ClickHouse (round(2.5) = 2) but away from
-- zero on the 18.16 package (round(2.5) = 3), and halves are common here
-- (0.0025 * 1000 = 2.5). With x = v * 1000, the expression
--     toInt64(trunc(x)) + if(abs(x - trunc(x)) >= 0.5, if(x < 0, -1, 1), 0)
-- rounds half away from zero on every release and equals Go's
-- math.Round(x) bit for bit: trunc is exact, and so is x - trunc(x).
SELECT
    platform,
    period,
    count()                       AS snapshot_count,
    sum(length(indicator_values)) AS indicator_count,
    sum(arraySum(arrayMap(
        x -> toInt64(trunc(x)) + if(abs(x - trunc(x)) >= 0.5, if(x < 0, -1, 1), 0),
        arrayMap(v -> v * 1000, indicator_values)
    )))                           AS indicator_milli_sum
FROM
(
    SELECT
        platform,
        period,
        author_id,
        argMax(indicator_values, snapshot_date) AS indicator_values
    FROM yongjin.creator_snapshots FINAL
    GROUP BY platform, period, author_id
)
GROUP BY platform, period
ORDER BY platform, period;

-- Hand-written (prisma/hand-written/money.sql, reports.sql; docs/performance.md, "Where PostgreSQL's
-- time goes"): the ledger's rollup trigger and the reports' fold plan their statements without
-- sequential scans and hash or merge joins. PL/pgSQL keeps a statement's plan for the connection's life;
-- a plan made while the tables were near empty scanned every lead and delivery (or pending delta) on each
-- later call.
ALTER FUNCTION ledger_entries_rollup() SET enable_seqscan = off;
ALTER FUNCTION ledger_entries_rollup() SET enable_hashjoin = off;
ALTER FUNCTION ledger_entries_rollup() SET enable_mergejoin = off;
ALTER FUNCTION report_fold(integer) SET enable_seqscan = off;
ALTER FUNCTION report_fold(integer) SET enable_hashjoin = off;
ALTER FUNCTION report_fold(integer) SET enable_mergejoin = off;

/*
 * extension/sql/upgrade/1.0--1.1.sql
 *
 * What an update from 1.0 to 1.1 does besides running the re-runnable
 * pieces again (shared.sql, the flavour's functions, shared_bind.sql):
 * changes to the tables of tables.sql, and objects 1.1 no longer has.
 * Run before those pieces, in both flavours' update scripts
 * (pg_rotate--1.0--1.1.sql and pg_rotate--1.0-sql--1.1-sql.sql) and in
 * pg_tle's update path.  Nothing yet: 1.1's tables are 1.0's.
 */

/*-------------------------------------------------------------------------
 *
 * audit_worker.c
 *	  How a refusal is recorded: kept on disk at once, chained by a
 *	  background worker in a transaction of its own.
 *
 * A refusal ends in ERROR, which rolls back whatever the caller's
 * transaction wrote, so its "denied" row must be committed by another
 * transaction.  audit_record_denial() first saves the row as a durable
 * pending record (audit_pending.c): from then on the refusal is recorded,
 * whatever becomes of the caller.  Then it starts a dynamic background
 * worker connected to the same database, which chains every pending record
 * of that database through audit.c in a transaction of its own, and waits
 * for it, so that in the ordinary case the denial is in the log before the
 * caller hears of it.
 *
 * The worker takes its own settings, not the database's or its owner's:
 * a non-superuser database owner can set default_transaction_read_only or
 * a tiny lock_timeout for every session of the database, and the writer
 * must still write.  It connects even where connections are not allowed
 * (ALLOW_CONNECTIONS false, which the database owner can also set).
 *
 * When the worker cannot chain the record now, the next append to the log
 * does (before its own row), and the server log says so:
 *	- the caller's own transaction holds a lock on rotate.audit_log that
 *	  blocks writers (it already wrote audit rows that are not committed
 *	  yet): the worker is started without waiting for it, and chains the
 *	  record as soon as the caller's transaction ends (within
 *	  pg_rotate.writer_timeout);
 *	- another session holds that lock for longer than
 *	  pg_rotate.writer_timeout: the worker gives up;
 *	- no worker slot came free within pg_rotate.writer_timeout (any role
 *	  can fill max_worker_processes with parallel queries);
 *	- the caller is cancelled while it waits: the worker goes on;
 *	- the server is a standby: the first write after promotion does.
 * Only when the pending record itself cannot be written (the disk is full,
 * the data directory is not writable) is the refusal merely counted
 * (rotate.unrecorded_refusal_seq), and the next append records how many.
 *
 * extension/audit_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "commands/sequence.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "pg_rotate.h"

PGDLLEXPORT void pg_rotate_audit_writer_main(Datum main_arg);

/* What the worker needs to know, passed in bgw_extra. */
typedef struct AuditWriterArgs
{
	Oid			database;
	Oid			user;
	int			lock_timeout_s;
} AuditWriterArgs;

StaticAssertDecl(sizeof(AuditWriterArgs) <= BGW_EXTRALEN,
				 "AuditWriterArgs must fit in bgw_extra");

/* The transaction (holding the chain lock) a writer already waits for. */
static TransactionId writer_waits_for = InvalidTransactionId;

/*
 * Register the writer, waiting up to pg_rotate.writer_timeout for a free
 * worker slot: concurrent refusals (or parallel queries) can hold every slot
 * for a few milliseconds, and a denial should not wait for the next write
 * for that.
 */
static bool
register_writer(BackgroundWorker *worker, BackgroundWorkerHandle **handle)
{
	TimestampTz start = GetCurrentTimestamp();

	while (!RegisterDynamicBackgroundWorker(worker, handle))
	{
		if (TimestampDifferenceExceeds(start, GetCurrentTimestamp(),
									   pg_rotate_writer_timeout * 1000))
			return false;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * start_writer
 *		Start a worker that chains this database's pending records as
 *		owner; when wait, wait until it has exited.  False when no worker
 *		slot came free.
 */
static bool
start_writer(Oid owner, bool wait)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	AuditWriterArgs args;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_rotate");
	snprintf(worker.bgw_function_name, BGW_MAXLEN,
			 "pg_rotate_audit_writer_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_rotate audit writer for PID %d",
			 MyProcPid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_rotate audit writer");
	args.database = MyDatabaseId;
	args.user = owner;
	args.lock_timeout_s = pg_rotate_writer_timeout;
	memcpy(worker.bgw_extra, &args, sizeof(args));
	worker.bgw_notify_pid = wait ? MyProcPid : 0;

	if (!register_writer(&worker, &handle))
		return false;
	if (wait &&
		WaitForBackgroundWorkerShutdown(handle) == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while pg_rotate waited for its audit writer")));
	pfree(handle);
	return true;
}

/*
 * denial_row
 *		The row to keep for a refusal: ev with every field that holds a
 *		password hash or SCRAM keys replaced by "<redacted>" (their names
 *		listed in detail's "redacted"), and the refusing backend's pid and
 *		the refusal's time added to the detail.
 */
static void
denial_row(const AuditEvent *ev, TimestampTz refused_at, AuditEvent *row)
{
	StringInfoData extra;
	const char *field;
	bool		first = true;
	Datum		given;
	Datum		added;

	*row = *ev;
	initStringInfo(&extra);
	appendStringInfo(&extra, "{\"pid\": %d, \"refused_at\": \"%s\"",
					 MyProcPid, audit_timestamp_text(refused_at));
	while ((field = audit_secret_field(row)) != NULL)
	{
		int			i;

		for (i = 0; i < AUDIT_NFIELDS; i++)
			if (strcmp(audit_fields[i].name, field) == 0)
				audit_field_set(row, i, strcmp(field, "detail") == 0 ? "{}" : "<redacted>");
		appendStringInfo(&extra, "%s\"%s\"", first ? ", \"redacted\": [" : ", ", field);
		first = false;
	}
	appendStringInfoString(&extra, first ? "}" : "]}");

	given = DirectFunctionCall1(jsonb_in,
								CStringGetDatum(row->detail ? row->detail : "{}"));
	added = DirectFunctionCall1(jsonb_in, CStringGetDatum(extra.data));
	row->detail = DatumGetCString(DirectFunctionCall1(jsonb_out,
													  DirectFunctionCall2(jsonb_concat,
																		  given, added)));
}

/*
 * id_watermark
 *		The log's id sequence now, as its owner (0 before its first use):
 *		every row chained later has a larger id.
 */
static int64
id_watermark(const RotateObjects *objs)
{
	LOCAL_FCINFO(fcinfo, 1);
	Oid			save_userid;
	int			save_sec_context;
	Datum		result;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs->owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(objs->audit_seq);
	fcinfo->args[0].isnull = false;
	result = pg_sequence_last_value(fcinfo);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return fcinfo->isnull ? 0 : DatumGetInt64(result);
}

/*
 * count_unrecorded
 *		The last resort, when no pending record could be saved: count the
 *		refusal in rotate.unrecorded_refusal_seq (nextval survives the
 *		rollback) for the next append to record.  False when even that is
 *		impossible: no counter (version 1.0) or a read-only transaction.
 */
static bool
count_unrecorded(const RotateObjects *objs)
{
	Oid			save_userid;
	int			save_sec_context;

	if (!OidIsValid(objs->refusal_seq) || XactReadOnly || RecoveryInProgress())
		return false;
	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(objs->owner,
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	(void) nextval_internal(objs->refusal_seq, false);
	SetUserIdAndSecContext(save_userid, save_sec_context);
	return true;
}

/*
 * audit_record_denial
 *		Record a refusal (ev, a "denied" row) so that it survives the
 *		caller's rollback, and return a sentence for the server log saying
 *		where it is.  Never raises for a failure to record: the caller's
 *		own ERROR is what the client sees.
 */
char *
audit_record_denial(const AuditEvent *ev)
{
	RotateObjects objs;
	LOCKTAG		tag;
	AuditEvent	row;
	TimestampTz refused_at = GetCurrentTimestamp();
	char	   *name;
	bool		holds_lock;

	rotate_lookup_objects(&objs);
	if (!objs.ok)
		return pstrdup("The refusal could not be recorded: the audit log of pg_rotate is missing in this database.");

	denial_row(ev, refused_at, &row);
	name = audit_pending_save(&row, refused_at, id_watermark(&objs));
	if (name == NULL)
	{
		int			save_errno = errno;

		if (count_unrecorded(&objs))
		{
			errno = save_errno;
			return psprintf("The refusal could not be saved (%m); it was counted in rotate.unrecorded_refusal_seq, and the next write to rotate.audit_log records the count.");
		}
		errno = save_errno;
		return psprintf("The refusal could not be saved (%m) nor counted: it is in this server log only.");
	}

	/* A standby cannot write: the first append after promotion chains it. */
	if (RecoveryInProgress())
		return psprintf("The refusal is kept in pending record \"%s\": the server is in recovery, and the first write to rotate.audit_log after its promotion chains it.",
						name);

	/*
	 * Holding a lock that blocks writers, we would wait for a worker that
	 * waits for us: let it wait for our transaction to end instead.  One
	 * such worker per transaction is enough (it chains every pending
	 * record), and more would only hold worker slots.
	 */
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, objs.audit_log);
	holds_lock = compat_LockHeldByMeOrStronger(&tag, RowExclusiveLock);
	if (holds_lock && TransactionIdIsValid(writer_waits_for) &&
		writer_waits_for == GetTopTransactionIdIfAny())
		return psprintf("The refusal is kept in pending record \"%s\": this transaction has written audit rows that are not committed yet, and the audit writer that waits for it to end chains it (or the next write to rotate.audit_log does).",
						name);

	if (!start_writer(objs.owner, !holds_lock))
		return psprintf("The refusal is kept in pending record \"%s\" and will be chained by the next write to rotate.audit_log: no background worker slot came free within pg_rotate.writer_timeout (max_worker_processes).",
						name);
	if (holds_lock)
	{
		writer_waits_for = GetTopTransactionIdIfAny();
		return psprintf("The refusal is kept in pending record \"%s\": this transaction has written audit rows that are not committed yet, so the audit writer chains it once the transaction ends (or the next write to rotate.audit_log does).",
						name);
	}
	if (audit_pending_exists(name))
		return psprintf("The refusal is kept in pending record \"%s\" and will be chained by the next write to rotate.audit_log: the audit writer failed (its own log lines say why).",
						name);
	return pstrdup("The refusal was recorded in rotate.audit_log.");
}

/*
 * pg_rotate_audit_writer_main
 *		Entry point of the audit writer: connect to the caller's database as
 *		the extension owner, with settings of its own, chain the pending
 *		records in a transaction of its own, exit.  Any ERROR ends the
 *		process and leaves the records for the next writer.
 */
void
pg_rotate_audit_writer_main(Datum main_arg)
{
	AuditWriterArgs args;
	char		timeout[32];

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnectionByOid(args.database, args.user,
											  COMPAT_BGWORKER_CONN_FLAGS);

	/* the database's or owner's settings must not stop the writer */
	snprintf(timeout, sizeof(timeout), "%ds", args.lock_timeout_s);
	SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog, pg_temp",
					PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("application_name", "pg_rotate audit writer",
					PGC_USERSET, PGC_S_OVERRIDE);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_rotate: chaining pending refusals");

	audit_flush();

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

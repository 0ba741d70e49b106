/*-------------------------------------------------------------------------
 *
 * audit_worker.c
 *	  "denied" audit rows that survive the caller's rollback.
 *
 * A refusal ends in ERROR, which rolls back whatever the caller's
 * transaction wrote, so the row recording the refusal must be committed by
 * another transaction.  We start a dynamic background worker connected to
 * the same database, hand it the row through a small DSM segment, and wait
 * until it has committed (or failed).  The worker writes through
 * audit_append(), so it takes the same chain lock as everyone else and the
 * chain cannot fork; the caller only raises its ERROR once the row is
 * committed, so the denial is in the log before the caller hears of it.
 *
 * Dynamic workers need no shared_preload_libraries.  When the worker
 * cannot do it we say why (in the server log, via the caller) rather than
 * wait forever:
 *	- the caller's own transaction holds a lock on rotate.audit_log that
 *	  blocks writers (it already wrote audit rows that are not committed
 *	  yet): the worker would wait for the caller, who waits for the worker;
 *	- no worker slot came free within pg_rotate.writer_timeout
 *	  (max_worker_processes; slots are busy only briefly, so we retry);
 *	- the worker failed, e.g. it waited longer than pg_rotate.writer_timeout
 *	  for the chain lock.
 *
 * extension/audit_worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "pg_rotate.h"

PGDLLEXPORT void pg_rotate_audit_writer_main(Datum main_arg);

/* What caller and worker share.  data holds the serialized AuditEvent. */
typedef struct AuditWriterShared
{
	Oid			database;
	Oid			user;
	int			lock_timeout_s;
	bool		done;			/* set by the worker after its commit */
	int64		id;				/* the committed row's id, when done */
	Size		len;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} AuditWriterShared;

/* The fields of an AuditEvent, in serialization order. */
static const char **
event_fields(const AuditEvent *ev, const char **f)
{
	f[0] = ev->actor;
	f[1] = ev->target;
	f[2] = ev->event;
	f[3] = ev->secret_id;
	f[4] = ev->version_id;
	f[5] = ev->client_addr;
	f[6] = ev->application_name;
	f[7] = ev->detail;
	return f;
}

/* Bytes needed to serialize ev: per field a null flag, text and NUL. */
static Size
event_size(const AuditEvent *ev)
{
	const char *f[AUDIT_NFIELDS];
	Size		len = 0;
	int			i;

	event_fields(ev, f);
	for (i = 0; i < AUDIT_NFIELDS; i++)
		len += 1 + (f[i] ? strlen(f[i]) + 1 : 0);
	return len;
}

/* Serialize ev into buf, which has event_size(ev) bytes. */
static void
event_serialize(const AuditEvent *ev, char *buf)
{
	const char *f[AUDIT_NFIELDS];
	int			i;

	event_fields(ev, f);
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		*buf++ = f[i] ? 1 : 0;
		if (f[i])
		{
			Size		n = strlen(f[i]) + 1;

			memcpy(buf, f[i], n);
			buf += n;
		}
	}
}

/* Rebuild an AuditEvent pointing into buf (len bytes); false if garbled. */
static bool
event_deserialize(const char *buf, Size len, AuditEvent *ev)
{
	const char *f[AUDIT_NFIELDS];
	const char *end = buf + len;
	int			i;

	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		if (buf >= end)
			return false;
		if (*buf++ == 0)
		{
			f[i] = NULL;
			continue;
		}
		f[i] = buf;
		buf = memchr(buf, '\0', end - buf);
		if (buf == NULL)
			return false;
		buf++;
	}
	ev->actor = f[0];
	ev->target = f[1];
	ev->event = f[2];
	ev->secret_id = f[3];
	ev->version_id = f[4];
	ev->client_addr = f[5];
	ev->application_name = f[6];
	ev->detail = f[7];
	return true;
}

/*
 * Register the writer, waiting up to pg_rotate.writer_timeout for a free
 * worker slot: concurrent refusals (or parallel queries) can hold every slot
 * for a few milliseconds, and a denial must not go unrecorded for that.
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
 * audit_append_autonomous
 *		Commit *ev to rotate.audit_log in a transaction of its own, through
 *		a background worker, and wait for it.
 *
 * Returns true and sets *id once the row is committed.  Returns false and
 * sets *why_not (a static sentence for the server log) when it could not;
 * never raises for that, so the caller's own ERROR is what the client sees.
 */
bool
audit_append_autonomous(const AuditEvent *ev, int64 *id, char **why_not)
{
	RotateObjects objs;
	LOCKTAG		tag;
	Size		len;
	dsm_segment *seg;
	AuditWriterShared *shared;
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	bool		ok = false;

	rotate_lookup_objects(&objs);
	if (!objs.ok)
	{
		*why_not = "The audit log of pg_rotate is missing in this database.";
		return false;
	}

	SET_LOCKTAG_RELATION(tag, MyDatabaseId, objs.audit_log);
	if (compat_LockHeldByMeOrStronger(&tag, RowExclusiveLock))
	{
		*why_not = "This transaction has written audit rows that are not committed yet, so no other transaction can append to the audit log before it ends.";
		return false;
	}

	len = event_size(ev);
	seg = dsm_create(offsetof(AuditWriterShared, data) + len,
					 DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (seg == NULL)
	{
		*why_not = "No dynamic shared memory segment was available for the audit writer.";
		return false;
	}
	shared = (AuditWriterShared *) dsm_segment_address(seg);
	shared->database = MyDatabaseId;
	shared->user = objs.owner;
	shared->lock_timeout_s = pg_rotate_writer_timeout;
	shared->done = false;
	shared->id = 0;
	shared->len = len;
	event_serialize(ev, shared->data);

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
	worker.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	worker.bgw_notify_pid = MyProcPid;

	if (!register_writer(&worker, &handle))
	{
		dsm_detach(seg);
		*why_not = "No background worker slot came free for the audit writer within pg_rotate.writer_timeout (max_worker_processes).";
		return false;
	}

	status = WaitForBackgroundWorkerShutdown(handle);
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while pg_rotate waited for its audit writer")));

	pg_read_barrier();
	if (shared->done)
	{
		*id = shared->id;
		ok = true;
	}
	else
		*why_not = "The audit writer failed; its own log lines say why.";
	pfree(handle);
	dsm_detach(seg);
	return ok;
}

/*
 * pg_rotate_audit_writer_main
 *		Entry point of the audit writer worker: attach the segment, connect
 *		to the caller's database as the extension owner, append the row in
 *		a transaction of its own, report the id, exit.  Any ERROR ends the
 *		process without setting "done".
 */
void
pg_rotate_audit_writer_main(Datum main_arg)
{
	dsm_segment *seg;
	AuditWriterShared *shared;
	AuditEvent	ev;
	int64		id;
	char		timeout[32];

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_rotate audit writer could not attach to its shared memory segment"),
				 errdetail("The backend that started it has probably gone away.")));
	shared = (AuditWriterShared *) dsm_segment_address(seg);

	BackgroundWorkerInitializeConnectionByOid(shared->database, shared->user,
											  COMPAT_BGWORKER_CONN_FLAGS);

	snprintf(timeout, sizeof(timeout), "%ds", shared->lock_timeout_s);
	SetConfigOption("lock_timeout", timeout, PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("application_name", "pg_rotate audit writer",
					PGC_USERSET, PGC_S_OVERRIDE);

	if (!event_deserialize(shared->data, shared->len, &ev))
		elog(ERROR, "pg_rotate audit writer received a malformed row");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "pg_rotate: appending an audit row");

	id = audit_append(&ev);

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	shared->id = id;
	pg_write_barrier();
	shared->done = true;

	dsm_detach(seg);
	proc_exit(0);
}

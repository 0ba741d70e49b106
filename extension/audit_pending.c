/*-------------------------------------------------------------------------
 *
 * audit_pending.c
 *	  Refusals kept on disk until they are in the chain.
 *
 * A refusal ends in ERROR, which rolls back whatever the caller's
 * transaction wrote, and nobody else may be able to write its row right
 * now either: the caller itself may hold the chain lock (it appended a row
 * earlier in its transaction), another session may hold it, every
 * background worker slot may be taken (an unprivileged role can fill them
 * with parallel queries), the caller may be cancelled while it waits
 * (statement_timeout).  So before anything else the refusal is written,
 * complete, to a file of its own under $PGDATA/pg_rotate/pending/ and
 * fsync'd: from then on it is durable, whatever happens to the caller and
 * its locks.  The audit writer (audit_worker.c) chains it at once when it
 * can; otherwise the next append to this database's log does, under the
 * chain lock and before its own row (audit.c, chain_section).
 *
 * A record is removed when the transaction that chained it commits (a
 * transaction callback, which runs while the chain lock is still held, so
 * the next writer no longer sees it); an abort, of the transaction or of
 * the subtransaction that chained it, keeps it for the next writer.  A
 * crash between that commit and the unlink leaves a record whose row is
 * already in the chain: the flush skips a record whose row it finds (the
 * same detail, which holds the refusing backend's pid and the refusal's
 * time, after the record's watermark: the log's id sequence when the
 * refusal was saved).
 *
 * A record's name is "<database oid>-<refused_at, microseconds since
 * 2000>-<pid>"; it is written as "<name>.tmp" and renamed (durable_rename).
 * Its contents: a magic line, the watermark line, then each AuditEvent
 * field in audit_fields order, as a flag byte (0 for NULL, 1 for text)
 * followed by the text and a NUL.
 *
 * extension/audit_pending.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "pg_rotate.h"

#define PENDING_PARENT	"pg_rotate"
#define PENDING_DIR		"pg_rotate/pending"
#define PENDING_MAGIC	"pg_rotate pending refusal 1\n"
#define PENDING_MAX_SIZE (1024 * 1024)

/* A record's name, parsed. */
typedef struct PendingName
{
	Oid			database;
	int64		refused_at;
	int			pid;
	char	   *name;
} PendingName;

/* A record chained by the current transaction: removed when it commits. */
typedef struct ChainedRecord
{
	char	   *name;
	SubTransactionId subid;		/* the subtransaction that chained it */
} ChainedRecord;

static List *chained = NIL;		/* of ChainedRecord, in TopTransactionContext */
static bool callbacks_registered = false;
static SPIPlanPtr seen_plan = NULL;

/* The path of record name, palloc'd. */
static char *
pending_path(const char *name)
{
	return psprintf("%s/%s", PENDING_DIR, name);
}

/* Parse a record's name; false for anything else (".tmp" files included). */
static bool
parse_name(const char *name, PendingName *pn)
{
	unsigned int database;
	long long	refused_at;
	int			pid;
	int			used = 0;

	if (sscanf(name, "%u-%lld-%d%n", &database, &refused_at, &pid, &used) != 3 ||
		name[used] != '\0')
		return false;
	pn->database = (Oid) database;
	pn->refused_at = (int64) refused_at;
	pn->pid = pid;
	pn->name = pstrdup(name);
	return true;
}

/* Oldest refusal first. */
static int
compare_pending(const ListCell *a, const ListCell *b)
{
	const PendingName *pa = (const PendingName *) lfirst(a);
	const PendingName *pb = (const PendingName *) lfirst(b);

	if (pa->refused_at != pb->refused_at)
		return pa->refused_at < pb->refused_at ? -1 : 1;
	return pa->pid - pb->pid;
}

/* Create dir if it is missing, making its entry durable. */
static bool
make_durable_dir(const char *dir, const char *parent)
{
	if (MakePGDirectory(dir) != 0)
		return errno == EEXIST;
	return fsync_fname_ext(dir, true, false, LOG) == 0 &&
		fsync_fname_ext(parent, true, false, LOG) == 0;
}

/*
 * audit_pending_save
 *		Write ev, refused at refused_at, as a durable pending record and
 *		return its name.  watermark is the log's id sequence now (any row
 *		chained for this record will have a larger id).  Returns NULL with
 *		errno set when the record could not be written; never raises, so
 *		the refusal's own ERROR is what the caller reports.
 */
char *
audit_pending_save(const AuditEvent *ev, TimestampTz refused_at, int64 watermark)
{
	StringInfoData buf;
	char	   *name;
	char	   *path;
	char	   *tmp;
	int			fd;
	int			save_errno;
	int			i;

	if (!make_durable_dir(PENDING_PARENT, ".") ||
		!make_durable_dir(PENDING_DIR, PENDING_PARENT))
		return NULL;

	initStringInfo(&buf);
	appendStringInfoString(&buf, PENDING_MAGIC);
	appendStringInfo(&buf, INT64_FORMAT "\n", watermark);
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		const char *value = audit_field_get(ev, i);

		appendStringInfoChar(&buf, value != NULL ? 1 : 0);
		if (value != NULL)
			appendBinaryStringInfo(&buf, value, strlen(value) + 1);
	}

	name = psprintf("%u-" INT64_FORMAT "-%d", MyDatabaseId, refused_at, MyProcPid);
	path = pending_path(name);
	tmp = psprintf("%s.tmp", path);

	fd = OpenTransientFile(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (fd < 0)
		return NULL;
	errno = 0;
	if (write(fd, buf.data, buf.len) != buf.len || pg_fsync(fd) != 0)
	{
		save_errno = errno != 0 ? errno : ENOSPC;
		CloseTransientFile(fd);
		unlink(tmp);
		errno = save_errno;
		return NULL;
	}
	if (CloseTransientFile(fd) != 0 || durable_rename(tmp, path, LOG) != 0)
	{
		save_errno = errno;
		unlink(tmp);
		errno = save_errno;
		return NULL;
	}
	return name;
}

/* Is record name still waiting to be chained? */
bool
audit_pending_exists(const char *name)
{
	struct stat st;

	return stat(pending_path(name), &st) == 0;
}

/*
 * read_record
 *		Read record name into *ev (pointing into a palloc'd buffer) and
 *		*watermark.  A record that cannot be read stops every append to
 *		this database's log until someone moves it away: skipping it would
 *		lose the refusal.
 */
static void
read_record(const char *name, AuditEvent *ev, int64 *watermark)
{
	char	   *path = pending_path(name);
	struct stat st;
	char	   *buf;
	char	   *p;
	char	   *end;
	char	   *nl;
	int			fd;
	int			i;
	bool		ok = false;

	fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open pending refusal record \"%s\": %m", path)));
	if (fstat(fd, &st) != 0 || st.st_size > PENDING_MAX_SIZE)
	{
		CloseTransientFile(fd);
		goto corrupt;
	}
	buf = palloc(st.st_size + 1);
	if (read(fd, buf, st.st_size) != st.st_size)
	{
		CloseTransientFile(fd);
		goto corrupt;
	}
	CloseTransientFile(fd);
	buf[st.st_size] = '\0';
	end = buf + st.st_size;

	if (st.st_size < strlen(PENDING_MAGIC) ||
		memcmp(buf, PENDING_MAGIC, strlen(PENDING_MAGIC)) != 0)
		goto corrupt;
	p = buf + strlen(PENDING_MAGIC);
	nl = memchr(p, '\n', end - p);
	if (nl == NULL)
		goto corrupt;
	*nl = '\0';
	errno = 0;
	*watermark = strtoi64(p, &p, 10);
	if (errno != 0 || p != nl)
		goto corrupt;
	p = nl + 1;

	memset(ev, 0, sizeof(*ev));
	for (i = 0; i < AUDIT_NFIELDS; i++)
	{
		char	   *nul;

		if (p >= end || (*p != 0 && *p != 1))
			goto corrupt;
		if (*p++ == 0)
			continue;
		nul = memchr(p, '\0', end - p);
		if (nul == NULL)
			goto corrupt;
		audit_field_set(ev, i, p);
		p = nul + 1;
	}
	ok = (p == end && ev->actor != NULL && ev->event != NULL);

corrupt:
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("pending refusal record \"%s\" is corrupt", path),
				 errdetail("No row can be added to rotate.audit_log before this refusal is."),
				 errhint("Move the file out of \"%s\" and keep it for the audit.",
						 PENDING_DIR)));
}

/*
 * already_chained
 *		Is a row for this record in the log (its commit was not followed by
 *		the unlink)?  Its detail holds the refusing backend's pid and the
 *		refusal's time, which no other refusal shares.
 */
static bool
already_chained(const AuditEvent *ev, int64 watermark)
{
	Datum		values[3];
	int			rc;

	if (seen_plan == NULL)
	{
		Oid			types[3] = {INT8OID, TEXTOID, JSONBOID};

		seen_plan = rotate_keep_plan("SELECT 1 FROM rotate.audit_log a"
									 " WHERE a.id OPERATOR(pg_catalog.>) $1"
									 "   AND a.event OPERATOR(pg_catalog.=) $2"
									 "   AND a.detail OPERATOR(pg_catalog.@>) $3"
									 " LIMIT 1", 3, types);
	}
	values[0] = Int64GetDatum(watermark);
	values[1] = CStringGetTextDatum(ev->event);
	values[2] = DirectFunctionCall1(jsonb_in,
									CStringGetDatum(ev->detail ? ev->detail : "{}"));
	rc = SPI_execute_snapshot(seen_plan, values, NULL, GetLatestSnapshot(),
							  InvalidSnapshot, true, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read rotate.audit_log: %s",
			 SPI_result_code_string(rc));
	return SPI_processed > 0;
}

/*
 * pending_xact_callback
 *		At commit, remove the records the transaction chained; at abort,
 *		keep them for the next writer.  A prepared transaction would
 *		commit later, in another session, without removing them: refused.
 */
static void
pending_xact_callback(XactEvent event, void *arg)
{
	ListCell   *lc;

	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (chained != NIL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot prepare a transaction that added pending refusals to rotate.audit_log")));
			break;
		case XACT_EVENT_COMMIT:
			foreach(lc, chained)
			{
				char	   *path = pending_path(((ChainedRecord *) lfirst(lc))->name);

				if (unlink(path) != 0 && errno != ENOENT)
					ereport(LOG,
							(errcode_for_file_access(),
							 errmsg("could not remove pending refusal record \"%s\": %m",
									path),
							 errdetail("Its row is in rotate.audit_log; the next writer skips it.")));
			}
			chained = NIL;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			chained = NIL;
			break;
		default:
			break;
	}
}

/* A subtransaction's rollback keeps the records it chained. */
static void
pending_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	foreach(lc, chained)
	{
		ChainedRecord *rec = (ChainedRecord *) lfirst(lc);

		if (rec->subid != mySubid)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
			chained = foreach_delete_current(chained, lc);
		else if (event == SUBXACT_EVENT_COMMIT_SUB)
			rec->subid = parentSubid;
	}
}

/* Remember that the current (sub)transaction chained record name. */
static void
remember_chained(const char *name)
{
	MemoryContext oldcxt;
	ChainedRecord *rec;

	if (!callbacks_registered)
	{
		RegisterXactCallback(pending_xact_callback, NULL);
		RegisterSubXactCallback(pending_subxact_callback, NULL);
		callbacks_registered = true;
	}
	oldcxt = MemoryContextSwitchTo(TopTransactionContext);
	rec = palloc(sizeof(ChainedRecord));
	rec->name = pstrdup(name);
	rec->subid = GetCurrentSubTransactionId();
	chained = lappend(chained, rec);
	MemoryContextSwitchTo(oldcxt);
}

/* Was record name chained by the current transaction already? */
static bool
chained_here(const char *name)
{
	ListCell   *lc;

	foreach(lc, chained)
	{
		if (strcmp(((ChainedRecord *) lfirst(lc))->name, name) == 0)
			return true;
	}
	return false;
}

/*
 * audit_pending_flush
 *		Chain this database's pending records, oldest first.  The caller
 *		holds the chain lock, is connected to SPI and runs as the log's
 *		owner (audit.c, chain_section).  Records of databases that no
 *		longer exist are removed.
 */
void
audit_pending_flush(const RotateObjects *objs)
{
	DIR		   *dir;
	struct dirent *de;
	List	   *records = NIL;
	ListCell   *lc;

	dir = AllocateDir(PENDING_DIR);
	if (dir == NULL && errno == ENOENT)
		return;
	while ((de = ReadDir(dir, PENDING_DIR)) != NULL)
	{
		PendingName pn;

		if (!parse_name(de->d_name, &pn))
			continue;
		if (pn.database == MyDatabaseId)
			records = lappend(records, memcpy(palloc(sizeof(pn)), &pn, sizeof(pn)));
		else if (!SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(pn.database)) &&
				 unlink(pending_path(pn.name)) != 0 && errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("could not remove pending refusal record \"%s\" of a dropped database: %m",
							pending_path(pn.name))));
	}
	FreeDir(dir);

	list_sort(records, compare_pending);
	foreach(lc, records)
	{
		const char *name = ((PendingName *) lfirst(lc))->name;
		AuditEvent	ev;
		int64		watermark;

		/* chained earlier in this transaction, removed at its commit */
		if (chained_here(name))
			continue;
		read_record(name, &ev, &watermark);
		if (!already_chained(&ev, watermark))
			(void) audit_chain_row(objs, &ev);
		remember_chained(name);
	}
}

/*
 * Fault injection for the SQLite store, for tests only: a VFS that wraps
 * the default one and fails chosen writes or fsyncs, so that the tests
 * can show that a failing disk refuses new submits with a clear error,
 * keeps serving what is stored, and corrupts nothing.
 *
 * CEPTOARD_FAULT=<op>:<n>[:<count>] fails <count> (default 1) calls of
 * <op> (write or fsync), starting with the <n>th after the hub is ready.
 * Without the variable the store opens on SQLite's default VFS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "ceptoard.h"

struct fault_file {
	sqlite3_file	 base;
	sqlite3_file	*real;		/* follows this struct in memory */
};

static sqlite3_vfs	*fault_real;
static sqlite3_vfs	 fault_vfs;
static sqlite3_io_methods fault_io;
static int		 fault_op;	/* 0 none, 1 write, 2 fsync */
static long		 fault_first, fault_count, fault_seen;
static bool		 fault_armed;

/* Whether this call of op is one to fail. */
static bool
fault_hit(int op)
{
	if (!fault_armed || op != fault_op)
		return false;
	fault_seen++;
	return fault_seen >= fault_first && fault_seen < fault_first +
	    fault_count;
}

static int
fault_close(sqlite3_file *f)
{
	struct fault_file	*ff = (struct fault_file *)f;
	int			 rc = SQLITE_OK;

	if (ff->real->pMethods != NULL)
		rc = ff->real->pMethods->xClose(ff->real);
	return rc;
}

static int
fault_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xRead(ff->real, buf, n, off);
}

static int
fault_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct fault_file *ff = (struct fault_file *)f;

	if (fault_hit(1)) {
		log_event(LOG_LVL_WARN, "store.fault", "op=write call=%ld",
		    fault_seen);
		return SQLITE_IOERR_WRITE;
	}
	return ff->real->pMethods->xWrite(ff->real, buf, n, off);
}

static int
fault_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xTruncate(ff->real, size);
}

static int
fault_sync(sqlite3_file *f, int flags)
{
	struct fault_file *ff = (struct fault_file *)f;

	if (fault_hit(2)) {
		log_event(LOG_LVL_WARN, "store.fault", "op=fsync call=%ld",
		    fault_seen);
		return SQLITE_IOERR_FSYNC;
	}
	return ff->real->pMethods->xSync(ff->real, flags);
}

static int
fault_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xFileSize(ff->real, size);
}

static int
fault_lock(sqlite3_file *f, int l)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xLock(ff->real, l);
}

static int
fault_unlock(sqlite3_file *f, int l)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xUnlock(ff->real, l);
}

static int
fault_reserved(sqlite3_file *f, int *out)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xCheckReservedLock(ff->real, out);
}

static int
fault_control(sqlite3_file *f, int op, void *arg)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xFileControl(ff->real, op, arg);
}

static int
fault_sector(sqlite3_file *f)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xSectorSize(ff->real);
}

static int
fault_device(sqlite3_file *f)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xDeviceCharacteristics(ff->real);
}

static int
fault_shm_map(sqlite3_file *f, int page, int size, int extend,
    void volatile **out)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xShmMap(ff->real, page, size, extend, out);
}

static int
fault_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xShmLock(ff->real, off, n, flags);
}

static void
fault_shm_barrier(sqlite3_file *f)
{
	struct fault_file *ff = (struct fault_file *)f;

	ff->real->pMethods->xShmBarrier(ff->real);
}

static int
fault_shm_unmap(sqlite3_file *f, int del)
{
	struct fault_file *ff = (struct fault_file *)f;

	return ff->real->pMethods->xShmUnmap(ff->real, del);
}

/* Open through the real VFS, then put our methods in front of its file. */
static int
fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *outflags)
{
	struct fault_file	*ff = (struct fault_file *)f;
	int			 rc;

	ff->real = (sqlite3_file *)(ff + 1);
	memset(ff->real, 0, (size_t)fault_real->szOsFile);
	f->pMethods = NULL;
	rc = fault_real->xOpen(fault_real, name, ff->real, flags, outflags);
	if (ff->real->pMethods != NULL)
		f->pMethods = &fault_io;
	return rc;
}

/* Pass every other VFS call straight to the real one. */
static int
fault_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	return fault_real->xDelete(fault_real, name, sync);
}

static int
fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return fault_real->xAccess(fault_real, name, flags, out);
}

static int
fault_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return fault_real->xFullPathname(fault_real, name, n, out);
}

static int
fault_random(sqlite3_vfs *vfs, int n, char *out)
{
	return fault_real->xRandomness(fault_real, n, out);
}

static int
fault_sleep(sqlite3_vfs *vfs, int us)
{
	return fault_real->xSleep(fault_real, us);
}

static int
fault_time(sqlite3_vfs *vfs, double *out)
{
	return fault_real->xCurrentTime(fault_real, out);
}

static int
fault_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return fault_real->xGetLastError(fault_real, n, out);
}

const char *
store_fault_vfs(void)
{
	const char	*spec = getenv("CEPTOARD_FAULT");
	char		 op[16];
	long		 first = 0, count = 1;
	int		 n;

	if (spec == NULL || *spec == '\0')
		return NULL;
	if (fault_real != NULL)
		return fault_vfs.zName;
	n = sscanf(spec, "%15[a-z]:%ld:%ld", op, &first, &count);
	if (n < 2 || first < 1 || count < 1 ||
	    (strcmp(op, "write") != 0 && strcmp(op, "fsync") != 0)) {
		log_event(LOG_LVL_ERROR, "store.fault", "spec=\"%s\" "
		    "reason=\"not op:n[:count] with op write or fsync\"", spec);
		return NULL;
	}
	fault_op = strcmp(op, "write") == 0 ? 1 : 2;
	fault_first = first;
	fault_count = count;
	if ((fault_real = sqlite3_vfs_find(NULL)) == NULL)
		return NULL;
	fault_io.iVersion = 2;
	fault_io.xClose = fault_close;
	fault_io.xRead = fault_read;
	fault_io.xWrite = fault_write;
	fault_io.xTruncate = fault_truncate;
	fault_io.xSync = fault_sync;
	fault_io.xFileSize = fault_size;
	fault_io.xLock = fault_lock;
	fault_io.xUnlock = fault_unlock;
	fault_io.xCheckReservedLock = fault_reserved;
	fault_io.xFileControl = fault_control;
	fault_io.xSectorSize = fault_sector;
	fault_io.xDeviceCharacteristics = fault_device;
	fault_io.xShmMap = fault_shm_map;
	fault_io.xShmLock = fault_shm_lock;
	fault_io.xShmBarrier = fault_shm_barrier;
	fault_io.xShmUnmap = fault_shm_unmap;
	fault_vfs.iVersion = 1;
	fault_vfs.szOsFile = (int)sizeof(struct fault_file) +
	    fault_real->szOsFile;
	fault_vfs.mxPathname = fault_real->mxPathname;
	fault_vfs.zName = "ceptoard-fault";
	fault_vfs.xOpen = fault_open;
	fault_vfs.xDelete = fault_delete;
	fault_vfs.xAccess = fault_access;
	fault_vfs.xFullPathname = fault_fullpath;
	fault_vfs.xDlOpen = fault_real->xDlOpen;
	fault_vfs.xDlError = fault_real->xDlError;
	fault_vfs.xDlSym = fault_real->xDlSym;
	fault_vfs.xDlClose = fault_real->xDlClose;
	fault_vfs.xRandomness = fault_random;
	fault_vfs.xSleep = fault_sleep;
	fault_vfs.xCurrentTime = fault_time;
	fault_vfs.xGetLastError = fault_last_error;
	if (sqlite3_vfs_register(&fault_vfs, 0) != SQLITE_OK) {
		fault_real = NULL;
		return NULL;
	}
	log_event(LOG_LVL_WARN, "store.fault", "spec=\"%s\" reason=\"fault "
	    "injection for tests is on\"", spec);
	return fault_vfs.zName;
}

bool
store_fault_fsync(void)
{
	if (!fault_hit(2))
		return false;
	log_event(LOG_LVL_WARN, "store.fault", "op=fsync call=%ld", fault_seen);
	return true;
}

void
store_fault_arm(void)
{
	fault_armed = fault_real != NULL;
	fault_seen = 0;
}

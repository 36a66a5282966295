// SQLite's process-wide settings, which Swift cannot call itself: `sqlite3_config` takes variable arguments.
// Debian's libsqlite3-dev, the library GRDB links.
#include <sqlite3.h>

/// Turns off SQLite's memory statistics: with them on, every allocation SQLite makes takes a process-wide lock to
/// count it. Only takes effect before SQLite's first use in the process (SQLITE_MISUSE after: nothing changes).
static inline int schoolbatch_sqlite_memstatus_off(void) { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

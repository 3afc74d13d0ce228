/**
 * The bounds of one page of the DeltaChannel history walk (include deltaHistoryWalk), the same for a load's own
 * calls (delta-history.ts) and for the first page getTuple's read brings (read.ts, delta-history-read-ahead.ts).
 */

/** Most ancestors one script call visits: bounds the time one call holds the server. */
export const DELTA_HISTORY_PAGE_CHECKPOINTS = 500;
/** A page also ends once it has gathered this many bytes (at least one ancestor per page). */
export const DELTA_HISTORY_PAGE_BYTES = 4 * 1024 * 1024;

--[[
  saverDeltaHistory: one page of the ancestor walk behind getDeltaChannelHistory. Follows the parent chain of one
  checkpoint inside the thread's slot and returns, per ancestor visited (newest first), its pending writes (the
  stored bundle whole, of which the client keeps the writes to the requested channels; overflow writes only to
  those) and, for each requested channel whose value that ancestor stored, the stored blob (the seed). A channel
  stops being walked at its seed; the walk stops when every channel has one, at the root, or when the page is full
  (then the client continues from the returned cursor with the channels still open).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record (its first part: the refs text)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value (frame with no parts: no value)
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex; finds the newest checkpoint when no id is
                        given)
  KEYS[4] byId          ZSET  (earlier releases; TTL refresh only)
  KEYS[5] writes        HASH  pending writes, framed (task, channel, type, bytes, path, idx): a checkpoint's bundle
                        ns\0id and its overflow fields (include pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields, so one checkpoint's overflow writes are one lex range
  KEYS[7] runFences     HASH  its history epoch (include historyEpoch); TTL refresh
  KEYS[8] byRun         ZSET  (TTL refresh only)

  ARGV[1] ns            the namespace (escaped as in the hash fields)
  ARGV[2] checkpointId  escaped id; "" (with ARGV[3] "target") means the newest checkpoint of the namespace
  ARGV[3] start         "target": ARGV[2] is the checkpoint whose history is wanted (its own writes are pending for
                        the next step and are skipped: the walk starts at its parent); "from": ARGV[2] is the next
                        ancestor to visit (a cursor returned by the previous page)
  ARGV[4] maxVisits     most ancestors this call visits (bounds the work of one call)
  ARGV[5] maxBytes      stop after the page's returned bytes pass this many (at least one ancestor is visited)
  ARGV[6] ttlMs         refresh every key's TTL to this many milliseconds; "0" leaves TTLs alone
  ARGV[7] stopAt        escaped id of a checkpoint whose history the client already holds or can cut from what it
                        holds (src/saver/delta-history-cache.ts), or "": the walk ends after visiting that ancestor,
                        and right away when it is the target (start "target") and its record exists
  ARGV[8] heldEpoch     the thread's history epoch when the client read what it holds: stopAt counts only while
                        the epoch is still that (include historyEpoch)
  ARGV[9..]             pairs (channel name, escaped channel name) of the channels still walked

  Result: { cursor, entries, pieces, seeds, bases, stopped, epoch, visited }; stopped is 1 when the walk ended at
  stopAt (the client appends the history it holds for stopAt to this one), else 0; epoch is the thread's history
  epoch. cursor is the escaped id of the next ancestor to visit, or "" when the walk is over. pieces are the stored
  writes of the ancestors visited that have any, newest first, as stored: an ancestor's bundle whole (include
  pendingWrites: each framed write after its length, one after another; a bundle holds about
  PENDING_WRITES_BUNDLE_BYTES, so it is sent as it is and the client keeps the writes to channels still walked at
  that ancestor), or its whole stored record when the record carries the bundle (include recordWrites: the client
  cuts the bundle out, so none is copied here), then its overflow writes to channels still walked (framed; each may
  be large, so these are chosen here). entries holds a 4-byte big-endian number per such ancestor, newest first: 4 *
  (its overflow writes sent) + 2 when its bundle is sent in its record + 1 when its bundle is sent, so the client
  knows which pieces are whose. seeds is a flat list {
  channel name, blob field, blob, entry, visit, ... } of the channels that end at an ancestor of this page (newest
  first), entry being the number of entries up to and including that ancestor's: the channel is walked through that
  entry's writes and no further; visit is that ancestor's place among the page's visited ones (1 for the first).
  bases is a flat list of blob field, blob value: every base the page's delta-encoded seeds need (include
  checkpointRefs, blobChain), each once. visited names every ancestor the page visited, newest first, with or
  without pieces: per ancestor a byte (1 when it has an entry, else 0), its escaped id and "\n" (escaped ids hold no
  newline). With it, a client that holds a checkpoint's history can cut from it the history of an ancestor on it
  whose channels all have their seed further down (the walk after that ancestor): what getStateHistory reads next,
  one ancestor after another.

  Reads: the parent chain one record at a time (each names the next), in runs of 1, 2, 4, ... up to READ_AHEAD
  records whose bundles then come in one HMGET, and the walked channels' blobs in HMGETs of BLOB_CHUNK in walk
  order until each channel has its seed; a run may read records and bundles past the last seed (fewer than the
  ancestors visited before it, and fewer than READ_AHEAD), and blobs past a seed only within its chunk. A record's
  parent and versions are read in place (include checkpointRefs, refsBounds), and a blob field is built only when a
  channel's version changes from one ancestor to the next, and never for a version the record names as left to
  history (a `\1` refs line: a DeltaChannel step's, no blob stored). A version the record names as JSON null (a
  `\3` refs line, no blob stored) is a seed too: its blob is sent as NULL_VALUE_BLOB, the blob such a value had
  before.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointIndex
-- @include historyEpoch
-- @include deltaHistoryWalk

local checkpoints, byNamespace = KEYS[1], KEYS[3]
local ns, checkpointId, start = ARGV[1], ARGV[2], ARGV[3]
local maxVisits, maxBytes, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local epoch = historyEpochOf(KEYS[7])
-- What the client holds was read under another epoch: ancestors may have gone since, so the walk does not stop.
local stopAt = ARGV[8] == epoch and ARGV[7] or ""

local function refreshTtl()
  if ttlMs > 0 then
    for i = 1, #KEYS do
      redis.call("PEXPIRE", KEYS[i], ttlMs)
    end
  end
end

local cursor = checkpointId
if start == "target" then
  local field
  if checkpointId == "" then
    field = checkpointIndexRange(byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1", true, 0, 1)[1]
  else
    field = ns .. "\0" .. checkpointId
  end
  local record = field and redis.call("HGET", checkpoints, field)
  if not record or recordWritesAhead(record) then
    return { "", "", {}, {}, {}, 0, epoch, "" }
  end
  refreshTtl()
  if checkpointId ~= "" and checkpointId == stopAt then
    return { "", "", {}, {}, {}, 1, epoch, "" }
  end
  cursor = refsParentAt(record, refsBounds(record))
end

local cursorAfter, entries, pieces, seeds, bases, stopped, visited =
  deltaHistoryWalk(ns, cursor, maxVisits, maxBytes, stopAt, { unpack(ARGV, 9) })
return { cursorAfter, entries, pieces, seeds, bases, stopped, epoch, visited }

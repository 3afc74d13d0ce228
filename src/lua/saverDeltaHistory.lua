--[[
  saverDeltaHistory: one page of the ancestor walk behind getDeltaChannelHistory. Follows the parent chain of one
  checkpoint inside the thread's slot and returns, per ancestor visited (newest first), only the pending writes to
  the requested channels and, for each requested channel whose value that ancestor stored, the stored blob (the
  seed). A channel stops being walked at its seed; the walk stops when every channel has one, at the root, or when
  the page is full (then the client continues from the returned cursor with the channels still open).

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record (its first part: the refs text)
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value (frame with no parts: no value)
  KEYS[3] byNamespace   ZSET  ns\0id (finds the newest checkpoint when no id is given)
  KEYS[4] byId          ZSET  (earlier releases; TTL refresh only)
  KEYS[5] writes        HASH  pending writes, framed (taskId, channel, type, bytes, path, idx): a checkpoint's bundle
                        ns\0id and its overflow fields (include pendingWrites)
  KEYS[6] writesIndex   ZSET  the overflow fields, so one checkpoint's overflow writes are one lex range
  KEYS[7] runFences     HASH  (TTL refresh only)
  KEYS[8] byRun         ZSET  (TTL refresh only)

  ARGV[1] ns            the namespace (escaped as in the hash fields)
  ARGV[2] checkpointId  escaped id; "" (with ARGV[3] "target") means the newest checkpoint of the namespace
  ARGV[3] start         "target": ARGV[2] is the checkpoint whose history is wanted (its own writes are pending for
                        the next step and are skipped: the walk starts at its parent); "from": ARGV[2] is the next
                        ancestor to visit (a cursor returned by the previous page)
  ARGV[4] maxVisits     most ancestors this call visits (bounds the work of one call)
  ARGV[5] maxBytes      stop after the page's returned bytes pass this many (at least one ancestor is visited)
  ARGV[6] ttlMs         refresh every key's TTL to this many milliseconds; "0" leaves TTLs alone
  ARGV[7..]             pairs (channel name, escaped channel name) of the channels still walked

  Result: { cursor, writes, seeds, bases }. cursor is the escaped id of the next ancestor to visit, or "" when the
  walk is over. writes is a list of strings: the first holds a 4-byte big-endian count per ancestor visited that
  has writes to channels still walked (newest first); the others, joined, hold those writes (plain or compressed
  frames), ancestor after ancestor, each as a 4-byte big-endian length and its frame (the bundle layout of include
  pendingWrites), in stored order (the client sorts one ancestor's writes by writesSortKey). The pieces are whole
  bundles where every write of a bundle is kept, so the common step costs no copy in Lua; the client joins them (a
  join in Lua copies every byte several times). seeds is a flat list { channel name, blob field, blob, ... } of the
  channels that end at an ancestor of this page. bases is a flat list of blob field, blob value: every base the
  page's delta-encoded seeds need (include checkpointRefs, blobChain), each once.

  Reads: the parent chain one record at a time (each names the next), in runs of 1, 2, 4, ... up to READ_AHEAD
  records whose bundles then come in one HMGET, and the walked channels' blobs in HMGETs of BLOB_CHUNK in walk
  order until each channel has its seed; a run may read records and bundles past the last seed (fewer than the
  ancestors visited before it, and fewer than READ_AHEAD), and blobs past a seed only within its chunk.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointRefs
-- @include pendingWrites

local checkpoints, blobs, byNamespace = KEYS[1], KEYS[2], KEYS[3]
local ns, checkpointId, start = ARGV[1], ARGV[2], ARGV[3]
local maxVisits, maxBytes, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

-- Records read before their bundles and blobs are fetched together: the first run reads one (a channel that is
-- not a DeltaChannel has its seed at the first ancestor, and only that value is read), each next run twice as many,
-- up to READ_AHEAD.
local READ_AHEAD = 32
local runLength = 1
-- Blobs read per HMGET while looking for the seeds.
local BLOB_CHUNK = 8

-- open: channel name -> its escaped name while it is walked; names: the distinct channels in argument order.
local open, names, openCount = {}, {}, 0
for i = 7, #ARGV, 2 do
  if not open[ARGV[i]] then
    open[ARGV[i]] = ARGV[i + 1]
    names[#names + 1] = ARGV[i]
    openCount = openCount + 1
  end
end

-- The channel of the framed write between from and to (inclusive) of text: its second part (format byte, then
-- 4-byte big-endian length and bytes per part). Plain (1) or with its value compressed (3): the channel part is the
-- same in both. nil when the bytes are no such frame.
local function writeChannel(text, from, to)
  local format = string.byte(text, from)
  if to - from < 8 or (format ~= 1 and format ~= 3) then
    return nil
  end
  local b1, b2, b3, b4 = string.byte(text, from + 1, from + 4)
  local offset = from + 5 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if offset + 3 > to then
    return nil
  end
  b1, b2, b3, b4 = string.byte(text, offset, offset + 3)
  local length = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  return string.sub(text, offset + 4, offset + 3 + length)
end

-- Whether a stored blob seeds its channel. A frame with no parts records a channel that had no value at that
-- version, the marker one whose value is left to history: neither is a seed.
local function isSeed(blob)
  return blob and #blob > 1 and blob ~= IN_HISTORY_MARKER
end

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
    field = redis.call("ZRANGE", byNamespace, "(" .. ns .. "\1", "[" .. ns .. "\0", "BYLEX", "REV", "LIMIT", 0, 1)[1]
  else
    field = ns .. "\0" .. checkpointId
  end
  local record = field and redis.call("HGET", checkpoints, field)
  if not record then
    return { "", {}, {}, {} }
  end
  cursor = refsParent(refsOf(record))
  refreshTtl()
end

-- out: the pieces of the writes; counts: the number of writes of each ancestor that has any (countText: those
-- numbers as 4-byte strings, each made once). A write is kept when its channel is still walked; a value that is no
-- frame (an unreadable bundle's rest) is kept too, and the client reports the corruption.
local out, counts, countText, seeds, bases, seenBases = {}, {}, {}, {}, {}, {}
local visits, bytes = 0, 0
-- The bundle being walked and the bounds (its length prefix included) of the keptCount writes kept from it.
local bundle, keptFrom, keptTo, keptCount, keptAll = nil, {}, {}, 0, true
local function keepBundleWrite(from, to)
  local channel = writeChannel(bundle, from, to)
  if not channel or open[channel] then
    keptCount = keptCount + 1
    keptFrom[keptCount] = from - 4
    keptTo[keptCount] = to
    bytes = bytes + to - from + 1
  else
    keptAll = false
  end
end

while cursor ~= "" and openCount > 0 and visits < maxVisits and (visits == 0 or bytes < maxBytes) do
  -- A run of the chain: ids[i], fields[i] and refs[i] of each ancestor read, nextId the one after the run ("" at the
  -- root or at a missing record, which ends the chain as the root does).
  local ids, fields, refs = {}, {}, {}
  local nextId = cursor
  local room = math.min(runLength, maxVisits - visits)
  runLength = math.min(runLength * 2, READ_AHEAD)
  while #fields < room and nextId ~= "" do
    local field = ns .. "\0" .. nextId
    local record = redis.call("HGET", checkpoints, field)
    if not record then
      nextId = ""
      break
    end
    local refsText = refsOf(record)
    ids[#ids + 1] = nextId
    fields[#fields + 1] = field
    refs[#refs + 1] = refsText
    nextId = refsParent(refsText)
  end
  if #fields == 0 then
    cursor = ""
    break
  end

  -- The blob of each walked channel at each ancestor of the run: blobFields[(i - 1) * #names + j] for ancestor i
  -- and names[j] (false when the channel is closed or the ancestor lists no version), each distinct field read once,
  -- in walk order, BLOB_CHUNK at a time, until every channel still walked has met its seed: the blobs past a seed
  -- are never looked at, so an older snapshot or value of the channel is not read for nothing.
  local blobFields, wanted, wantedSet, wantedChannel = {}, {}, {}, {}
  for i = 1, #fields do
    for j = 1, #names do
      local escaped = open[names[j]]
      local version = escaped and refsVersion(refs[i], escaped)
      local blobField = false
      if version then
        blobField = ns .. "\0" .. escaped .. "\0" .. version
        if not wantedSet[blobField] then
          wantedSet[blobField] = true
          wanted[#wanted + 1] = blobField
          wantedChannel[#wanted] = names[j]
        end
      end
      blobFields[(i - 1) * #names + j] = blobField
    end
  end
  local blobOf, seeded, seededCount = {}, {}, 0
  local from = 1
  while from <= #wanted and seededCount < openCount do
    local to = math.min(from + BLOB_CHUNK - 1, #wanted)
    local values = redis.call("HMGET", blobs, unpack(wanted, from, to))
    for k = 1, #values do
      local channel = wantedChannel[from + k - 1]
      blobOf[wanted[from + k - 1]] = values[k]
      if isSeed(values[k]) and not seeded[channel] then
        seeded[channel] = true
        seededCount = seededCount + 1
      end
    end
    from = to + 1
  end
  local bundles = pendingWritesBundles(fields)

  cursor = nextId
  for i = 1, #fields do
    if openCount == 0 or (visits > 0 and bytes >= maxBytes) then
      cursor = ids[i]
      break
    end
    visits = visits + 1

    -- This ancestor's kept writes, appended to out after their count: the whole bundle when every write in it is
    -- kept (the common case), else the kept ones cut out of it; then its overflow writes.
    local overflow = {}
    for _, value in ipairs(pendingWritesOverflow(fields[i])) do
      local channel = writeChannel(value, 1, #value)
      if not channel or open[channel] then
        overflow[#overflow + 1] = pendingWritesLength(#value) .. value
        bytes = bytes + #value
      end
    end
    bundle, keptCount, keptAll = bundles[i], 0, true
    local rest = nil
    if bundle then
      local stop = pendingWritesWalk(bundle, keepBundleWrite)
      if stop <= #bundle or #bundle == 0 then
        rest = string.sub(bundle, stop)
        keptAll = false
        bytes = bytes + #rest
      end
    end
    local count = keptCount + #overflow + (rest and 1 or 0)
    if count > 0 then
      countText[count] = countText[count] or pendingWritesLength(count)
      counts[#counts + 1] = countText[count]
      if keptAll and keptCount > 0 then
        out[#out + 1] = bundle
      else
        for k = 1, keptCount do
          out[#out + 1] = string.sub(bundle, keptFrom[k], keptTo[k])
        end
        if rest then
          out[#out + 1] = pendingWritesLength(#rest)
          out[#out + 1] = rest
        end
      end
      for k = 1, #overflow do
        out[#out + 1] = overflow[k]
      end
    end

    local closed = nil
    for j = 1, #names do
      local blobField = open[names[j]] and blobFields[(i - 1) * #names + j]
      local blob = blobField and blobOf[blobField]
      if isSeed(blob) then
        seeds[#seeds + 1] = names[j]
        seeds[#seeds + 1] = blobField
        seeds[#seeds + 1] = blob
        closed = closed or {}
        closed[#closed + 1] = names[j]
        bytes = bytes + #blob
        if isDeltaBlob(blob) then
          local before = #bases
          blobChain(blobs, blobField, blob, seenBases, bases)
          for k = before + 2, #bases, 2 do
            bytes = bytes + #bases[k]
          end
        end
      end
    end
    for _, name in ipairs(closed or {}) do
      open[name] = nil
      openCount = openCount - 1
    end
  end
end

if openCount == 0 then
  cursor = ""
end
table.insert(out, 1, table.concat(counts))
return { cursor, out, seeds, bases }

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
  KEYS[5] writes        HASH  ns\0id\0taskId\0idx -> framed pending write (taskId, channel, type, bytes, path, idx)
  KEYS[6] writesIndex   ZSET  the writes fields, so one checkpoint's writes are one lex range
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

  Result: { cursor, steps, bases }. cursor is the escaped id of the next ancestor to visit, or "" when the walk is
  over. Each step is { seeds, writeValues }: seeds a flat list { channel name, blob field, blob, ... } of the
  channels that end here; writeValues the framed writes (plain or compressed) of this ancestor to channels still
  walked (in field order; the client sorts them by writesSortKey). bases is a flat list of blob field, blob value:
  every base the page's delta-encoded seeds need (include checkpointRefs, blobChain), each once.

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).
]]
-- @include checkpointRefs

local checkpoints, blobs, byNamespace = KEYS[1], KEYS[2], KEYS[3]
local writes, writesIndex = KEYS[5], KEYS[6]
local ns, checkpointId, start = ARGV[1], ARGV[2], ARGV[3]
local maxVisits, maxBytes, ttlMs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local open, channelOf, openCount = {}, {}, 0
for i = 7, #ARGV, 2 do
  if not open[ARGV[i]] then
    open[ARGV[i]] = true
    channelOf[ARGV[i + 1]] = ARGV[i]
    openCount = openCount + 1
  end
end

-- The channel of a framed write: its second part (format byte, then 4-byte big-endian length and bytes per part).
-- Plain (1) or with its value compressed (3): the channel part is the same in both.
local function writeChannel(value)
  local format = string.byte(value, 1)
  if #value < 9 or (format ~= 1 and format ~= 3) then
    return nil
  end
  local b1, b2, b3, b4 = string.byte(value, 2, 5)
  local offset = 6 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if offset + 3 > #value then
    return nil
  end
  b1, b2, b3, b4 = string.byte(value, offset, offset + 3)
  local length = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  return string.sub(value, offset + 4, offset + 3 + length)
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
    return { "", {}, {} }
  end
  cursor = parseRefs(refsOf(record))
  refreshTtl()
end

local steps, visits, bytes = {}, 0, 0
local bases, seenBases = {}, {}
while cursor ~= "" and openCount > 0 and visits < maxVisits and (visits == 0 or bytes < maxBytes) do
  local field = ns .. "\0" .. cursor
  local record = redis.call("HGET", checkpoints, field)
  if not record then
    cursor = ""
    break
  end
  visits = visits + 1
  local refsText = refsOf(record)
  local parentId, lines = parseRefs(refsText)
  local blobFields = checkpointBlobFields(ns, refsText)

  local writeValues = {}
  local writeFields = redis.call("ZRANGE", writesIndex, "[" .. field .. "\0", "(" .. field .. "\1", "BYLEX")
  for from = 1, #writeFields, 1000 do
    local chunk = redis.call("HMGET", writes, unpack(writeFields, from, math.min(from + 999, #writeFields)))
    for i = 1, #chunk do
      local value = chunk[i]
      if value then
        local channel = writeChannel(value)
        if channel and open[channel] then
          writeValues[#writeValues + 1] = value
          bytes = bytes + #value
        end
      end
    end
  end

  local seeds = {}
  for i = 1, #lines do
    local cut = string.find(lines[i], "\0", 1, true)
    local channel = cut and channelOf[string.sub(lines[i], 1, cut - 1)]
    if channel and open[channel] then
      local blob = blobValue(blobs, blobFields[i])
      -- A frame with no parts records a channel that had no value at that version, the marker one whose value is
      -- left to history: neither is a seed.
      if blob and #blob > 1 and blob ~= IN_HISTORY_MARKER then
        seeds[#seeds + 1] = channel
        seeds[#seeds + 1] = blobFields[i]
        seeds[#seeds + 1] = blob
        bytes = bytes + #blob
        if isDeltaBlob(blob) then
          local before = #bases
          blobChain(blobs, blobFields[i], blob, seenBases, bases)
          for k = before + 2, #bases, 2 do
            bytes = bytes + #bases[k]
          end
        end
      end
    end
  end
  for i = 1, #seeds, 3 do
    open[seeds[i]] = nil
    openCount = openCount - 1
  end
  steps[#steps + 1] = { seeds, writeValues }
  cursor = parentId
end

if openCount == 0 then
  cursor = ""
end
return { cursor, steps, bases }

-- @include deltaBlob
-- @include framedFirstPart
-- @include recordWrites
-- What a stored checkpoint record points at, and which stored blobs a channel value needs. The one place that
-- answers "which blob fields does a checkpoint need" (saverRead, saverDeltaHistory, saverDeleteForRuns and saverPut
-- ask here), including how delta blobs point at their bases (see src/saver/blob-delta.ts and FrameFormat in
-- src/saver/codec.ts): scripts that copy, prune or delete a thread's blobs must keep or move every blob blobChain
-- lists for a kept value.
--
-- framedFirstPart(value): the first part of a frame (include framedFirstPart).
-- refsOf(record): the refs text, the record's first framed part (format byte 1, PLAIN, or 6, PACKED_RECORD: the refs
--   stay plain there and only the later parts are packed); "" when the framing is unreadable (the client reports
--   that when it decodes the record). A record that carries its pending writes (include recordWrites) is read
--   inside its wrapper: every function here takes the stored value as it is.
-- parseRefs(refsText): parentId (escaped; "" for none) and the list of "channel\0version" lines (escaped parts).
--   Lines of other kinds hold no NUL and start with a byte naming their kind (inHistoryRef in src/saver/codec.ts):
--   every parser skips a line after the first that holds no NUL (the in-history lines, the run line of include
--   runIndex).
-- refsInHistory(refsText): the set (escaped channel -> true) of channels whose version in this checkpoint is a
--   DeltaChannel value left to the ancestors' writes, from its lines "\1<escaped channel>"; nil when none. Such a
--   version has no blob: read like IN_HISTORY_MARKER (which earlier releases, and `compression: false`, store).
-- checkpointBlobFields(ns, refsText): the blob hash fields ("ns\0channel\0version") the checkpoint's channel values
--   are read from, in the order of its refs lines.
-- blobValue(blobs, field): the stored value of one blob field (false when absent), as stored (a delta blob's bases
--   come from blobChain).
-- IN_HISTORY_MARKER: the whole blob of a DeltaChannel version left to history (IN_HISTORY_MARKER of
--   src/saver/codec.ts: format byte 5, one framed part "in-history"); not a value, not a seed.
-- isDeltaBlob(value): true for a delta blob (include deltaBlob).
-- blobBaseField(field, value): for a delta blob stored at `field` ("ns\0channel\0version"), the field of its base
--   (same namespace and channel, the version in its first part); nil for a full value; false when the delta cannot
--   be read.
-- blobChain(blobs, field, value, seen, out): appends field, value of every base the blob needs, nearest first,
--   until a full value, a missing or unreadable base, or 1024 steps; `seen` (field -> true) skips bases already
--   appended to `out` by an earlier call. Returns nothing.
-- For walks that follow a few channels through many records (saverDeltaHistory), the refs read in place, with no
-- copy of the refs text:
-- refsBounds(record): first, last: the positions of the refs text inside the record (refsOf's answer is
--   string.sub(record, first, last); last = first - 1 when it is ""), and, for a record that carries its pending
--   writes (include recordWrites), the position their bundle starts at (6 for writes ahead of their checkpoint).
-- refsParentAt(record, first, last): the parent id alone (parseRefs' first answer, without splitting the lines).
-- refsVersionAt(record, first, last, escapedChannel): the version the refs give the channel (escaped), or nil when
--   they list none; a search for that one line.
-- refsNullAt(record, first, last, escapedChannel): true when a `\3<channel>` line says the checkpoint's value of the
--   channel is JSON null (stored with no blob; see nullValueRef in src/saver/codec.ts).
-- refsInHistoryAt(record, first, last, escapedChannel): true when a `\1<channel>` line says the checkpoint's value of
--   the channel is left to history (refsInHistory's answer for one channel, read in place: no blob is stored).
-- NULL_VALUE_BLOB: the blob such a value had before (a PLAIN frame of type "json" and bytes "null").
local function refsOf(record)
  record = recordWritesSplit(record)
  if not record then
    return ""
  end
  local format = string.byte(record, 1)
  if format ~= 1 and format ~= 6 then
    return ""
  end
  return framedFirstPart(record) or ""
end

local function parseRefs(refsText)
  local parentId, lines = "", {}
  local lineStart, first = 1, true
  while lineStart <= #refsText + 1 do
    local lineEnd = string.find(refsText, "\n", lineStart, true) or (#refsText + 1)
    if first then
      first = false
      parentId = string.sub(refsText, lineStart, lineEnd - 1)
    else
      local line = string.sub(refsText, lineStart, lineEnd - 1)
      if string.find(line, "\0", 1, true) then
        lines[#lines + 1] = line
      end
    end
    lineStart = lineEnd + 1
  end
  return parentId, lines
end

local function refsInHistory(refsText)
  local set = nil
  for channel in string.gmatch(refsText, "\n\1([^\n]*)") do
    set = set or {}
    set[channel] = true
  end
  return set
end

local function checkpointBlobFields(ns, refsText)
  local _, lines = parseRefs(refsText)
  local fields = {}
  for i = 1, #lines do
    fields[i] = ns .. "\0" .. lines[i]
  end
  return fields
end

local function blobValue(blobs, field)
  return redis.call("HGET", blobs, field)
end

local IN_HISTORY_MARKER = string.char(5, 0, 0, 0, 10) .. "in-history"

local function blobBaseField(field, value)
  local format = string.byte(value, 1)
  if format ~= 2 and format ~= 4 then
    return nil
  end
  local version = framedFirstPart(value)
  local cut = string.find(field, "%z[^%z]*$")
  if version == nil or cut == nil then
    return false
  end
  return string.sub(field, 1, cut) .. version
end

local function blobChain(blobs, field, value, seen, out)
  for _ = 1, 1024 do
    local base = blobBaseField(field, value)
    if not base or seen[base] then
      return
    end
    local baseValue = redis.call("HGET", blobs, base)
    if not baseValue then
      return
    end
    seen[base] = true
    out[#out + 1] = base
    out[#out + 1] = baseValue
    field, value = base, baseValue
  end
end

-- string.byte, string.find and string.sub as locals: a walk calls them a few times per record, and a global
-- lookup each time costs as much as the call.
local refsByte = string.byte
local refsFind = string.find
local refsSub = string.sub

local function refsBounds(record)
  -- Positions inside a wrapper (include recordWrites) start after its 5 bytes; the record is not copied out.
  local start, finish, carried = 1, #record, nil
  if refsByte(record, 1) == 8 then
    start, finish = recordWritesBounds(record)
    if not start then
      return 6, 5
    end
    carried = finish + 1
  end
  local format = refsByte(record, start)
  if (format ~= 1 and format ~= 6) or finish - start + 1 < 5 then
    return 6, 5, carried
  end
  local b1, b2, b3, b4 = refsByte(record, start + 1, start + 4)
  local last = start + 4 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if last > finish then
    return 6, 5, carried
  end
  return start + 5, last, carried
end

local function refsParentAt(record, first, last)
  local lineEnd = refsFind(record, "\n", first, true)
  if not lineEnd or lineEnd > last then
    lineEnd = last + 1
  end
  return refsSub(record, first, lineEnd - 1)
end

-- escaped channel -> "\n<channel>\0": escaped parts hold no "\n" or "\0", so only that channel's line holds it (the
-- search starts at the refs' first byte, so the byte before them cannot pass for the "\n"; a match past the refs' end
-- is in the record's other parts, and means the refs list no such line).
local refsLineStarts = {}

local function refsVersionAt(record, first, last, escapedChannel)
  local lineStart = refsLineStarts[escapedChannel]
  if not lineStart then
    lineStart = "\n" .. escapedChannel .. "\0"
    refsLineStarts[escapedChannel] = lineStart
  end
  local _, matchEnd = refsFind(record, lineStart, first, true)
  if not matchEnd or matchEnd > last then
    return nil
  end
  local lineEnd = refsFind(record, "\n", matchEnd + 1, true)
  if not lineEnd or lineEnd > last then
    lineEnd = last + 1
  end
  return refsSub(record, matchEnd + 1, lineEnd - 1)
end

-- "\<kind byte><escaped channel>" -> that line with its "\n" in front, per kind (3: null value, 1: in history).
local refsKindLines = { [1] = {}, [3] = {} }

local function refsHasLine(record, first, last, kind, escapedChannel)
  local line = refsKindLines[kind][escapedChannel]
  if not line then
    line = "\n" .. string.char(kind) .. escapedChannel
    refsKindLines[kind][escapedChannel] = line
  end
  local at = first
  while true do
    local _, matchEnd = refsFind(record, line, at, true)
    if not matchEnd or matchEnd > last then
      return false
    end
    -- The whole line, not a longer channel name that starts with this one.
    if matchEnd == last or refsByte(record, matchEnd + 1) == 10 then
      return true
    end
    at = matchEnd + 1
  end
end

local function refsNullAt(record, first, last, escapedChannel)
  return refsHasLine(record, first, last, 3, escapedChannel)
end

local function refsInHistoryAt(record, first, last, escapedChannel)
  return refsHasLine(record, first, last, 1, escapedChannel)
end

local NULL_VALUE_BLOB = string.char(1, 0, 0, 0, 4) .. "json" .. string.char(0, 0, 0, 4) .. "null"

-- A checkpoint record that carries its checkpoint's pending-write bundle (include pendingWrites): format byte 8
-- (RECORD_WITH_WRITES of src/saver/codec.ts), the record's length as 4 bytes big-endian, the record as put stored
-- it (PLAIN or PACKED_RECORD, unchanged), then the bundle to the end. A checkpoint's bundle then costs no hash entry
-- of its own. Records that carry none are stored as they are, as earlier releases stored every record.
-- Writes that arrive before their checkpoint's put (LangGraph sends a step's writes and the put of its checkpoint
-- side by side, so about half of a chat's bundles arrive first) wait in a wrapper of an empty record: "writes
-- ahead", which the put fills in (include putCheckpoint). Such a field is no checkpoint: it has no index entry, and
-- every reader that reaches a record by its id rather than through the index (saverDeltaHistory's walk,
-- saverImportThread, saverPrune's count) asks recordWritesAhead.
--
-- recordWritesBounds(stored): the first and last positions of the record inside the stored value: 6 and 5 + length
--   for a wrapper (6 and 5 for writes ahead), 1 and #stored for a plain record; nil when the wrapper is damaged
--   (shorter than its 5 bytes, or its length runs past the end).
-- recordWritesSplit(stored): the record and the bundle it carries: the record unchanged and false when it carries
--   none; "" and the bundle for writes ahead; nil when the wrapper is damaged (the client reports that when it
--   decodes the record).
-- recordWritesAhead(stored): true when the stored value is writes ahead of their checkpoint (no record yet).
-- recordWritesBundle(stored): recordWritesSplit's bundle alone (false for none and for a damaged wrapper).
-- recordWritesWrap(record, bundle): the value to store for a record (not a wrapper; "" for writes ahead) and its
--   bundle: the record alone when the bundle is "" ("" then for writes ahead: the caller deletes the field).

local function recordWritesBounds(stored)
  if string.byte(stored, 1) ~= 8 then
    return 1, #stored
  end
  if #stored < 5 then
    return nil
  end
  local b1, b2, b3, b4 = string.byte(stored, 2, 5)
  local last = 5 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if last > #stored then
    return nil
  end
  return 6, last
end

local function recordWritesAhead(stored)
  local format, b1, b2, b3, b4 = string.byte(stored, 1, 5)
  return format == 8 and b1 == 0 and b2 == 0 and b3 == 0 and b4 == 0
end

-- The bundle a stored value carries, copied without the record (a walk wants only that): false for none or a damaged
-- wrapper.
local function recordWritesBundle(stored)
  if string.byte(stored, 1) ~= 8 then
    return false
  end
  local first, last = recordWritesBounds(stored)
  return first ~= nil and string.sub(stored, last + 1)
end

local function recordWritesSplit(stored)
  if string.byte(stored, 1) ~= 8 then
    return stored, false
  end
  local first, last = recordWritesBounds(stored)
  if not first then
    return nil
  end
  return string.sub(stored, first, last), string.sub(stored, last + 1)
end

local function recordWritesWrap(record, bundle)
  if bundle == "" then
    return record
  end
  local n = #record
  return string.char(8, math.floor(n / 16777216) % 256, math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
    .. record
    .. bundle
end

-- A checkpoint record that carries its checkpoint's pending-write bundle (include pendingWrites): format byte 8
-- (RECORD_WITH_WRITES of src/saver/codec.ts), the record's length as 4 bytes big-endian, the record as put stored
-- it (PLAIN or PACKED_RECORD, unchanged), then the bundle to the end. A checkpoint's bundle then costs no hash entry
-- of its own. Records that carry none are stored as they are, as earlier releases stored every record.
--
-- recordWritesBounds(stored): the first and last positions of the record inside the stored value: 6 and 5 + length
--   for a wrapper, 1 and #stored for a plain record; nil when the wrapper is damaged (its length runs past the end).
-- recordWritesSplit(stored): the record and the bundle it carries ("" for none): the record unchanged and false
--   when it carries none, nil when the wrapper is damaged (the client reports that when it decodes the record).
-- recordWritesWrap(record, bundle): the value to store for a record (not a wrapper) and its bundle: the record
--   alone when the bundle is "".

local function recordWritesBounds(stored)
  if string.byte(stored, 1) ~= 8 then
    return 1, #stored
  end
  if #stored < 6 then
    return nil
  end
  local b1, b2, b3, b4 = string.byte(stored, 2, 5)
  local last = 5 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if last > #stored or last < 6 then
    return nil
  end
  return 6, last
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

-- framedFirstPart(value): the first part of a frame (format byte, then 4-byte big-endian length and bytes per part),
-- or nil when the frame is too short to hold it: a record's refs, a delta blob's base version, a write's task id.
-- Its own include so that checkpointRefs and pendingWrites share it.
local function framedFirstPart(value)
  if #value < 5 then
    return nil
  end
  local b1, b2, b3, b4 = string.byte(value, 2, 5)
  local length = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if 5 + length > #value then
    return nil
  end
  return string.sub(value, 6, 5 + length)
end

-- isDeltaBlob(value): true for a delta blob (format 2 or 4 of FrameFormat in src/saver/codec.ts); an empty
-- (corrupt) value has no format byte. Its own include so that a script can tell deltas apart without defining the
-- rest of checkpointRefs.
local function isDeltaBlob(value)
  local format = value and string.byte(value, 1)
  return format == 2 or format == 4
end

-- Which stored blobs a channel value needs: the one place that knows how delta blobs point at their bases (see
-- src/saver/blob-delta.ts and FrameFormat in src/saver/codec.ts). Included by saverRead and saverPut; scripts that
-- copy, prune or delete a thread's blobs must keep or move every blob blobChain lists for a kept value.
--
-- framedFirstPart(value): the first part of a frame (format byte, then 4-byte big-endian length and bytes per
-- part), or nil when the frame is too short to hold it.
-- blobBaseField(field, value): for a delta blob (format 2 or 4) stored at `field` ("ns\0channel\0version"), the
-- field of its base (same namespace and channel, the version in its first part); nil for a full value; false when
-- the delta cannot be read.
-- blobChain(blobs, field, value, seen, out): appends field, value of every base the blob needs, nearest first,
-- until a full value, a missing or unreadable base, or 1024 steps; `seen` (field -> true) skips bases already
-- appended to `out` by an earlier call. Returns nothing.
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

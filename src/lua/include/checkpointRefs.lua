-- What a stored checkpoint record points at. The one place that answers "which blob fields does a checkpoint
-- need": saverRead, saverDeltaHistory and saverDeleteForRuns all ask here, so a change to how blobs are stored (a
-- blob that references a base blob, say) extends these functions and every reader and collector follows.
--
-- refsOf(record): the refs text, the record's first framed part (format byte 1, then a 4-byte big-endian length);
--   "" when the framing is unreadable (the client reports that when it decodes the record).
-- parseRefs(refsText): parentId (escaped; "" for none) and the list of "channel\0version" lines (escaped parts).
-- checkpointBlobFields(ns, refsText): the blob hash fields ("ns\0channel\0version") the checkpoint's channel values
--   are read from, in the order of its refs lines.
-- blobValue(blobs, field): the stored value of one blob field (false when absent), as the client decodes it.
local function refsOf(record)
  if #record < 5 or string.byte(record, 1) ~= 1 then
    return ""
  end
  local b1, b2, b3, b4 = string.byte(record, 2, 5)
  local length = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if 5 + length > #record then
    return ""
  end
  return string.sub(record, 6, 5 + length)
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
      lines[#lines + 1] = string.sub(refsText, lineStart, lineEnd - 1)
    end
    lineStart = lineEnd + 1
  end
  return parentId, lines
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

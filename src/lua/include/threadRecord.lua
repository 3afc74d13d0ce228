-- threadRecord: the thread registry's record and index members (keys.ThreadRegistryKeys). A record is the text
-- "<created ms, 15 digits>\0<status>" followed by "\0<field>\0<value as JSON>" per metadata field; JSON text holds no
-- raw NUL and field names are refused with one, so the split is exact. Index members end in "<created>\0<thread>",
-- so every lex range of the index is oldest first (newest first read in reverse).

local function splitRecord(text)
  local parts, from = {}, 1
  while true do
    local at = string.find(text, "\0", from, true)
    if not at then
      parts[#parts + 1] = string.sub(text, from)
      return parts
    end
    parts[#parts + 1] = string.sub(text, from, at - 1)
    from = at + 1
  end
end

local function parseRecord(text)
  local parts = splitRecord(text)
  local record = { created = parts[1], status = parts[2] or "idle", fields = {}, values = {} }
  for i = 3, #parts - 1, 2 do
    record.fields[#record.fields + 1] = parts[i]
    record.values[parts[i]] = parts[i + 1]
  end
  return record
end

local function encodeRecord(record)
  local out = { record.created, record.status }
  for _, field in ipairs(record.fields) do
    local value = record.values[field]
    if value then
      out[#out + 1] = field
      out[#out + 1] = value
    end
  end
  return table.concat(out, "\0")
end

-- The index members of a record; `indexed` is the set of declared fields (nil: every field, to remove members).
local function recordMembers(threadId, record, indexed)
  local tail = record.created .. "\0" .. threadId
  local members = { "c\0" .. tail, "s\0" .. record.status .. "\0" .. tail }
  for _, field in ipairs(record.fields) do
    local value = record.values[field]
    if value and (indexed == nil or indexed[field]) then
      members[#members + 1] = "m\0" .. field .. "\0" .. value .. "\0" .. tail
    end
  end
  return members
end

-- Removes a thread from one registry bucket: its updated entry, record and index members.
local function dropRegisteredThread(updated, records, index, threadId)
  local text = redis.call("HGET", records, threadId)
  if text then
    redis.call("ZREM", index, unpack(recordMembers(threadId, parseRecord(text), nil)))
    redis.call("HDEL", records, threadId)
  end
  return redis.call("ZREM", updated, threadId)
end

-- The per-thread checkpoint index (byNamespace, the saver's KEYS[3]): members `ns\0id`, one namespace one lex range,
-- newest last. The only code that touches that key: every script calls these functions instead of ZSET commands.
-- Two forms, told apart by the key's TYPE (asked once per key and script, then cached here):
-- - ZSET (all scores 0): what earlier releases wrote, and what `compression: false` keeps creating (so a downgrade
--   stays possible). Past 128 members Redis keeps it as a skiplist: about 150 bytes per checkpoint. Served by the
--   ZSET commands themselves.
-- - LIST of the same members in the same byte order (a quicklist of listpacks: about 40 bytes per checkpoint), what
--   a new thread gets otherwise. Ranges find their ends by binary search with LINDEX (lexBefore of include
--   lexOrder: Lua's own < follows the server's collation locale), then read one LRANGE; a put appends with RPUSH
--   when its member sorts last (one namespace written in id order: nearly every put), else LINSERTs it in place.
-- A key of any other type goes to the ZSET commands and fails with WRONGTYPE, as it always did.
--
-- checkpointIndexRange(key, min, max, rev, offset, count): ZRANGE key min max BYLEX [REV] [LIMIT offset count], with
--   min and max in ZRANGE BYLEX bound syntax ("[x", "(x", "-", "+") and always in that order (min the low end, also
--   with rev); offset and count may be nil (every member; a negative count too).
-- checkpointIndexLexCount(key, min, max): ZLEXCOUNT. checkpointIndexCard(key): ZCARD.
-- checkpointIndexAdd(key, member, zsetWhenNew): ZADD key 0 member (1 when added, 0 when already there); an absent
--   key becomes a LIST, or a ZSET when zsetWhenNew is true.
-- checkpointIndexRemove(key, member): ZREM key member (1 or 0).
-- checkpointIndexBuild(key, members, zset): fills an absent key with members (any order, no repeats): a LIST
--   sorted here (RPUSH in batches), or a ZSET when zset is true.
-- @include lexOrder

local checkpointIndexKinds = {}
-- A LIST's length where a write of this script returned it (RPUSH, LINSERT): saves the LLEN after a put.
local checkpointIndexLengths = {}

local function checkpointIndexKind(key)
  local kind = checkpointIndexKinds[key]
  if not kind then
    kind = redis.call("TYPE", key).ok
    checkpointIndexKinds[key] = kind
  end
  return kind
end

-- The first index in [lo, hi) of the LIST whose member is after x (strict) or not before x; hi when none is.
local function checkpointIndexSearch(key, lo, hi, x, strict)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local member = redis.call("LINDEX", key, mid)
    if lexBefore(member, x) or (strict and member == x) then
      lo = mid + 1
    else
      hi = mid
    end
  end
  return lo
end

local function checkpointIndexLength(key)
  local length = checkpointIndexLengths[key]
  if not length then
    length = redis.call("LLEN", key)
    checkpointIndexLengths[key] = length
  end
  return length
end

-- The LIST indexes first..last (inclusive; last < first when empty) of the members between the bounds min and max.
local function checkpointIndexSpan(key, min, max)
  local n = checkpointIndexLength(key)
  if n == 0 or min == "+" or max == "-" then
    return 0, -1
  end
  local first, last = 0, n - 1
  if min ~= "-" then
    local kind, x = string.sub(min, 1, 1), string.sub(min, 2)
    if kind ~= "[" and kind ~= "(" then
      error("checkpointIndex: min or max not valid string range item")
    end
    -- The first member not before "[x" (after "(x"); most ranges start at the list's head.
    local head = redis.call("LINDEX", key, 0)
    if lexBefore(head, x) or (kind == "(" and head == x) then
      first = checkpointIndexSearch(key, 1, n, x, kind == "(")
    end
  end
  if max ~= "+" then
    local kind, x = string.sub(max, 1, 1), string.sub(max, 2)
    if kind ~= "[" and kind ~= "(" then
      error("checkpointIndex: min or max not valid string range item")
    end
    -- One before the first member after "[x" (not before "(x"); most ranges end at the list's tail.
    local tail = redis.call("LINDEX", key, -1)
    if lexBefore(x, tail) or (kind == "(" and tail == x) then
      last = checkpointIndexSearch(key, first, n - 1, x, kind == "[") - 1
    end
  end
  return first, last
end

local function checkpointIndexRange(key, min, max, rev, offset, count)
  if checkpointIndexKind(key) ~= "list" then
    local args = { "ZRANGE", key, min, max, "BYLEX" }
    if rev then
      args = { "ZRANGE", key, max, min, "BYLEX", "REV" }
    end
    if offset or count then
      args[#args + 1] = "LIMIT"
      args[#args + 1] = offset or 0
      args[#args + 1] = count or -1
    end
    return redis.call(unpack(args))
  end
  local first, last = checkpointIndexSpan(key, min, max)
  offset = offset or 0
  if count == nil or count < 0 then
    count = last - first + 1
  end
  if rev then
    local top = last - offset
    local bottom = math.max(first, top - count + 1)
    if top < bottom then
      return {}
    end
    local members = redis.call("LRANGE", key, bottom, top)
    local reversed = {}
    for i = #members, 1, -1 do
      reversed[#reversed + 1] = members[i]
    end
    return reversed
  end
  local bottom = first + offset
  local top = math.min(last, bottom + count - 1)
  if top < bottom then
    return {}
  end
  return redis.call("LRANGE", key, bottom, top)
end

local function checkpointIndexLexCount(key, min, max)
  if checkpointIndexKind(key) ~= "list" then
    return redis.call("ZLEXCOUNT", key, min, max)
  end
  local first, last = checkpointIndexSpan(key, min, max)
  return math.max(0, last - first + 1)
end

local function checkpointIndexCard(key)
  if checkpointIndexKind(key) ~= "list" then
    return redis.call("ZCARD", key)
  end
  return checkpointIndexLength(key)
end

local function checkpointIndexAdd(key, member, zsetWhenNew)
  local kind = checkpointIndexKind(key)
  if kind == "none" then
    kind = zsetWhenNew and "zset" or "list"
    checkpointIndexKinds[key] = kind
  end
  if kind ~= "list" then
    return redis.call("ZADD", key, "0", member)
  end
  local tail = redis.call("LINDEX", key, -1)
  if not tail or lexBefore(tail, member) then
    checkpointIndexLengths[key] = redis.call("RPUSH", key, member)
    return 1
  end
  if tail == member then
    return 0
  end
  local at = checkpointIndexSearch(key, 0, checkpointIndexLength(key) - 1, member, false)
  local pivot = redis.call("LINDEX", key, at)
  if pivot == member then
    return 0
  end
  checkpointIndexLengths[key] = redis.call("LINSERT", key, "BEFORE", pivot, member)
  return 1
end

local function checkpointIndexRemove(key, member)
  if checkpointIndexKind(key) ~= "list" then
    return redis.call("ZREM", key, member)
  end
  local removed = redis.call("LREM", key, 1, member)
  if removed > 0 and checkpointIndexLengths[key] then
    checkpointIndexLengths[key] = checkpointIndexLengths[key] - removed
  end
  return removed
end

local function checkpointIndexBuild(key, members, zset)
  checkpointIndexKinds[key] = zset and "zset" or "list"
  checkpointIndexLengths[key] = nil
  if zset then
    for _, member in ipairs(members) do
      redis.call("ZADD", key, "0", member)
    end
    return
  end
  local sorted = {}
  for i = 1, #members do
    sorted[i] = members[i]
  end
  table.sort(sorted, lexBefore)
  for from = 1, #sorted, 1000 do
    redis.call("RPUSH", key, unpack(sorted, from, math.min(from + 999, #sorted)))
  end
end

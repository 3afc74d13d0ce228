-- The per-thread checkpoint index (byNamespace, the saver's KEYS[3]): members `ns\0id`, one namespace one lex range,
-- newest last. The only code that touches that key: every script calls these functions instead of ZSET commands.
-- Two forms, told apart by the key's TYPE (asked once per key and script, then cached here):
-- - ZSET (all scores 0): what earlier releases wrote, and what `compression: false` keeps creating (so a downgrade
--   stays possible). Past 128 members Redis keeps it as a skiplist: about 150 bytes per checkpoint. Served by the
--   ZSET commands themselves.
-- - LIST of the same members in the same byte order (a quicklist of listpacks: about 40 bytes per checkpoint), what
--   a new thread gets otherwise. Ranges find their ends by binary search with LINDEX (lexBefore of include
--   lexOrder: Lua's own < follows the server's collation locale), none where a range reaches past an end of the
--   list (the newest checkpoint of a single-namespace thread), then read one LRANGE; a put appends with RPUSH when
--   its member sorts last (one namespace written in id order: nearly every put), else LINSERTs it in place; a
--   removal is one LREM from the nearer end (a LINDEX of the middle member tells; retention, which removes the
--   oldest, scans from the head at once).
-- A key of any other type goes to the ZSET commands and fails with WRONGTYPE, as it always did.
--
-- checkpointIndexRange(key, min, max, rev, offset, count): ZRANGE key min max BYLEX [REV] [LIMIT offset count], with
--   min and max in ZRANGE BYLEX bound syntax ("[x", "(x", "-", "+") and always in that order (min the low end, also
--   with rev); offset and count may be nil (every member; a negative count too).
-- checkpointIndexLexCount(key, min, max): ZLEXCOUNT. checkpointIndexCard(key): ZCARD.
-- checkpointIndexAdd(key, member, zsetWhenNew, listHint): ZADD key 0 member (1 when added, 0 when already there);
--   an absent key becomes a LIST, or a ZSET when zsetWhenNew is true. listHint: the caller has seen a LIST there (the
--   put scripts' "l" flag), so the tail is read without asking TYPE first; an error reply (the key is something else
--   by now) falls back to asking.
-- checkpointIndexRemove(key, member, fromHead): ZREM key member (1 or 0). A LIST is scanned from the nearer end, or
--   from its head at once when fromHead is true (retention removes the oldest checkpoints).
-- checkpointIndexRemoveMany(key, members): checkpointIndexRemove of each member (any order); returns the
--   count removed. A LIST losing more than a few is read once from the first of them on, each found member blanked in
--   place (LSET to "", which no member is: every one holds a NUL) and the blanks removed by one LREM: one scan
--   instead of one per member (10,000 removals from a 100,000-member list took seconds one by one).
-- checkpointIndexBuild(key, members, zset): fills an absent key with members (any order, no repeats): a LIST
--   sorted here unless they come sorted (RPUSH in batches), or a ZSET when zset is true.
-- @include lexOrder

local checkpointIndexKinds = {}
-- A LIST's length once read (LLEN) or returned by a write of this script (RPUSH, LINSERT; LREM counts it down):
-- saves the LLEN after a put.
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

-- Whether member m lies within the low bound min, and within the high bound max.
local function checkpointIndexAboveMin(m, min)
  if min == "-" then
    return true
  end
  return min ~= "+" and (lexBefore(string.sub(min, 2), m) or (string.sub(min, 1, 1) == "[" and m == string.sub(min, 2)))
end

local function checkpointIndexBelowMax(m, max)
  if max == "+" then
    return true
  end
  return max ~= "-" and (lexBefore(m, string.sub(max, 2)) or (string.sub(max, 1, 1) == "[" and m == string.sub(max, 2)))
end

local function checkpointIndexBound(bound)
  local kind = string.sub(bound, 1, 1)
  if kind ~= "[" and kind ~= "(" then
    error("checkpointIndex: min or max not valid string range item")
  end
  return kind, string.sub(bound, 2)
end

-- The LIST index of the first member within min (n when none). Most ranges start at the list's head, and the jump
-- past a single-namespace thread's only namespace finds nothing after the tail: both without a search.
local function checkpointIndexFirst(key, n, min)
  if min == "-" or min == "+" or n == 0 then
    return (min == "+") and n or 0
  end
  local kind, x = checkpointIndexBound(min)
  if checkpointIndexAboveMin(redis.call("LINDEX", key, 0), min) then
    return 0
  end
  if not checkpointIndexAboveMin(redis.call("LINDEX", key, -1), min) then
    return n
  end
  return checkpointIndexSearch(key, 1, n - 1, x, kind == "(")
end

-- The LIST index of the last member within max (-1 when none), and that member when it is the list's tail (most
-- ranges end there, the newest checkpoint of a single-namespace thread).
local function checkpointIndexLast(key, n, max)
  if max == "+" or max == "-" or n == 0 then
    return (max == "+") and (n - 1) or -1
  end
  local kind, x = checkpointIndexBound(max)
  local tail = redis.call("LINDEX", key, -1)
  if checkpointIndexBelowMax(tail, max) then
    return n - 1, tail
  end
  if not checkpointIndexBelowMax(redis.call("LINDEX", key, 0), max) then
    return -1
  end
  return checkpointIndexSearch(key, 1, n - 1, x, kind == "[") - 1
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
  local out = {}
  if rev and (offset or 0) == 0 and count == 1 then
    -- The newest member in range, the commonest read (getTuple of the latest checkpoint): the list's tail when the
    -- tail is within max, found without the list's length; a nil tail is an emptied list.
    local tail = redis.call("LINDEX", key, -1)
    if not tail then
      return out
    end
    if checkpointIndexBelowMax(tail, max) then
      if checkpointIndexAboveMin(tail, min) then
        out[1] = tail
      end
      return out
    end
  end
  local n = checkpointIndexLength(key)
  offset = offset or 0
  local all = count == nil or count < 0
  if rev then
    -- From the high end down; with a count, members of the slice below min (at its start) are left out instead of
    -- searching for min's index.
    local last, tail = checkpointIndexLast(key, n, max)
    local top = last - offset
    local bottom = all and checkpointIndexFirst(key, n, min) or math.max(0, top - count + 1)
    if top < bottom then
      return out
    end
    local members = (tail and top == n - 1 and bottom == top) and { tail } or redis.call("LRANGE", key, bottom, top)
    for i = #members, 1, -1 do
      if not checkpointIndexAboveMin(members[i], min) then
        break
      end
      out[#out + 1] = members[i]
    end
    return out
  end
  local bottom = checkpointIndexFirst(key, n, min) + offset
  local top = all and checkpointIndexLast(key, n, max) or math.min(n - 1, bottom + count - 1)
  if top < bottom then
    return out
  end
  local members = redis.call("LRANGE", key, bottom, top)
  for i = 1, #members do
    if not checkpointIndexBelowMax(members[i], max) then
      break
    end
    out[i] = members[i]
  end
  return out
end

local function checkpointIndexLexCount(key, min, max)
  if checkpointIndexKind(key) ~= "list" then
    return redis.call("ZLEXCOUNT", key, min, max)
  end
  local n = checkpointIndexLength(key)
  return math.max(0, checkpointIndexLast(key, n, max) - checkpointIndexFirst(key, n, min) + 1)
end

local function checkpointIndexCard(key)
  if checkpointIndexKind(key) ~= "list" then
    return redis.call("ZCARD", key)
  end
  return checkpointIndexLength(key)
end

local function checkpointIndexAdd(key, member, zsetWhenNew, listHint)
  -- tail: nil until read; false when the key is absent (a LIST has at least one member).
  local tail
  if listHint and not checkpointIndexKinds[key] then
    -- redis.pcall: a ZSET here (the thread deleted and written again by an earlier release or with `compression:
    -- false`) must not fail the put.
    tail = redis.pcall("LINDEX", key, -1)
    if type(tail) == "table" then
      tail = nil
    else
      checkpointIndexKinds[key] = tail and "list" or "none"
    end
  end
  local kind = checkpointIndexKind(key)
  if kind == "none" then
    kind = zsetWhenNew and "zset" or "list"
    checkpointIndexKinds[key] = kind
  end
  if kind ~= "list" then
    return redis.call("ZADD", key, "0", member)
  end
  if tail == nil then
    tail = redis.call("LINDEX", key, -1)
  end
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

local function checkpointIndexRemove(key, member, fromHead)
  if checkpointIndexKind(key) ~= "list" then
    return redis.call("ZREM", key, member)
  end
  local direction = 1
  if not fromHead then
    -- LREM scans from one end: from the tail when the member sorts after the middle one (a rollback removes the
    -- newest checkpoints), so a removal costs its distance from the nearer end rather than from the head.
    local n = checkpointIndexLength(key)
    if n > 1 and lexBefore(redis.call("LINDEX", key, math.floor(n / 2)), member) then
      direction = -1
    end
  end
  local removed = redis.call("LREM", key, direction, member)
  if removed > 0 and checkpointIndexLengths[key] then
    checkpointIndexLengths[key] = checkpointIndexLengths[key] - removed
  end
  return removed
end

local function checkpointIndexRemoveMany(key, members)
  local removed = 0
  if #members <= 8 or checkpointIndexKind(key) ~= "list" then
    for _, member in ipairs(members) do
      removed = removed + checkpointIndexRemove(key, member)
    end
    return removed
  end
  local pending, first, left = {}, members[1], 0
  for _, member in ipairs(members) do
    if not pending[member] then
      pending[member] = true
      left = left + 1
    end
    if lexBefore(member, first) then
      first = member
    end
  end
  local n = checkpointIndexLength(key)
  local at = checkpointIndexSearch(key, 0, n, first, false)
  while left > 0 and at < n do
    local window = redis.call("LRANGE", key, at, at + 999)
    for i = 1, #window do
      if pending[window[i]] then
        redis.call("LSET", key, at + i - 1, "")
        removed, left = removed + 1, left - 1
        if left == 0 then
          break
        end
      end
    end
    at = at + 1000
  end
  if removed > 0 then
    redis.call("LREM", key, removed, "")
    checkpointIndexLengths[key] = n - removed
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
  local sorted, inOrder = {}, true
  for i = 1, #members do
    sorted[i] = members[i]
    inOrder = inOrder and (i == 1 or lexBefore(members[i - 1], members[i]))
  end
  if not inOrder then
    table.sort(sorted, lexBefore)
  end
  for from = 1, #sorted, 1000 do
    redis.call("RPUSH", key, unpack(sorted, from, math.min(from + 999, #sorted)))
  end
end

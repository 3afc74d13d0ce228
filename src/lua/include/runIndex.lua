-- @include recordWrites
-- The thread's run index (byRun ZSET, KEYS[8]; score 0) behind deleteForRuns, and the run line of a checkpoint's
-- refs. Included by saverPut, saverDeleteForRuns and the retention include.
--
-- A checkpoint put with a run id carries it in its refs, on a line of its own: "\2" then the escaped run id (no NUL,
-- so readers of the `channel\0version` lines skip it; see encodeRefs in src/saver/codec.ts). The index then needs
-- one member per (run, namespace), not one per checkpoint. Two forms of member live side by side:
-- - `runId\0ns\0\0firstId\0count` (escaped parts): the run wrote `count` checkpoints of namespace ns still stored,
--   none with an id before firstId. firstId is the first RUN_INDEX_FIRST_ID_BYTES bytes of the smallest such id (a
--   prefix sorts no later than the id; a 36-character id would push the member of a 36-character run id past the 64
--   bytes Redis keeps in a small sorted set's compact encoding; 16 bytes of a LangGraph id, a version 6 UUID, place
--   it within 26 microseconds). The empty part after ns tells it from the other form (a checkpoint id is never
--   empty), and makes the members of one (run, ns) of this form one lex range of their own. count never falls
--   short of the checkpoints carrying the run's line (a put counts its checkpoint unless it replaces one that
--   already carried that run; every removal that goes through the scripts counts it down): deleteForRuns walks the
--   namespace from firstId until it found `count`, so a count too high costs a longer walk, never a miss.
-- - `runId\0ns\0id`: one per checkpoint, written by earlier releases (their records carry no run line); read and
--   removed as they are.
--
-- runIndexRunOf(record): the escaped run id on the run line of a stored record's refs, read in place; nil when the
--   record has none (or its framing is unreadable).
-- runIndexFind(byRun, runId, ns, before): the (run, ns) member of this form, its firstId and count; nil when there is
--   none, or (with `before`, an id) when its firstId does not sort before that id: one lex range answers both.
-- runIndexAdd(byRun, runId, ns, id): counts one more checkpoint `ns\0id` of the run; true when the (run, namespace)
--   member is new.
-- runIndexDrop(byRun, runId, ns): counts one fewer; the member goes at 0 (then true).
-- runIndexHasRun(byRun, runId): whether any member of the run (any namespace, either form) is left.
-- runIndexRuns(byRun): the distinct escaped run ids of every member, in index order.
-- runIndexParse(member, runIdLength): for a member of a run whose escaped id has that length: ns, firstId, count for
--   this form; ns, id (and nil) for an earlier release's member.

local RUN_INDEX_FIRST_ID_BYTES = 16

local function runIndexRunOf(record)
  -- A record that carries its pending writes is read inside its wrapper (include recordWrites).
  local start, finish = recordWritesBounds(record)
  if not start then
    return nil
  end
  local format = string.byte(record, start)
  if (format ~= 1 and format ~= 6) or finish - start + 1 < 5 then
    return nil
  end
  local b1, b2, b3, b4 = string.byte(record, start + 1, start + 4)
  local last = start + 4 + ((b1 * 256 + b2) * 256 + b3) * 256 + b4
  if last > finish then
    return nil
  end
  local at = start + 5
  while true do
    -- The first line is the parent id: every later line starts after a "\n".
    local _, mark = string.find(record, "\n\2", at, true)
    if not mark or mark > last then
      return nil
    end
    local lineEnd = string.find(record, "\n", mark + 1, true)
    if not lineEnd or lineEnd > last then
      lineEnd = last + 1
    end
    local line = string.sub(record, mark + 1, lineEnd - 1)
    -- A channel whose name starts with byte 2 has a NUL on its line: not the run line.
    if not string.find(line, "\0", 1, true) then
      return line
    end
    at = lineEnd
  end
end

local function runIndexFind(byRun, runId, ns, before)
  local prefix = runId .. "\0" .. ns .. "\0\0"
  -- `firstId\0count` sorts before `before` exactly when firstId does (escaped ids hold no NUL).
  local to = before and ("(" .. prefix .. before) or ("(" .. runId .. "\0" .. ns .. "\0\1")
  local member = redis.call("ZRANGE", byRun, "[" .. prefix, to, "BYLEX", "LIMIT", 0, 1)[1]
  if not member then
    return nil
  end
  local rest = string.sub(member, #prefix + 1)
  local cut = string.find(rest, "\0", 1, true)
  return member, string.sub(rest, 1, cut - 1), tonumber(string.sub(rest, cut + 1))
end

local function runIndexMember(runId, ns, firstId, count)
  return runId .. "\0" .. ns .. "\0\0" .. firstId .. "\0" .. string.format("%d", count)
end

local function runIndexAdd(byRun, runId, ns, id)
  id = string.sub(id, 1, RUN_INDEX_FIRST_ID_BYTES)
  -- Ids mostly grow: the member is then found with a firstId before id, which stays.
  local member, firstId, count = runIndexFind(byRun, runId, ns, id)
  if member then
    id = firstId
  else
    member, firstId, count = runIndexFind(byRun, runId, ns, nil)
  end
  if member then
    redis.call("ZREM", byRun, member)
  end
  redis.call("ZADD", byRun, "0", runIndexMember(runId, ns, id, (count or 0) + 1))
  return member == nil
end

local function runIndexDrop(byRun, runId, ns)
  local member, firstId, count = runIndexFind(byRun, runId, ns)
  if not member then
    return
  end
  redis.call("ZREM", byRun, member)
  if count > 1 then
    redis.call("ZADD", byRun, "0", runIndexMember(runId, ns, firstId, count - 1))
    return false
  end
  return true
end

local function runIndexHasRun(byRun, runId)
  return redis.call("ZRANGE", byRun, "[" .. runId .. "\0", "(" .. runId .. "\1", "BYLEX", "LIMIT", 0, 1)[1] ~= nil
end

local function runIndexRuns(byRun)
  local runs, seen = {}, {}
  for _, member in ipairs(redis.call("ZRANGE", byRun, 0, -1)) do
    local cut = string.find(member, "\0", 1, true)
    local runId = cut and string.sub(member, 1, cut - 1) or member
    if not seen[runId] then
      seen[runId] = true
      runs[#runs + 1] = runId
    end
  end
  return runs
end

local function runIndexParse(member, runIdLength)
  local rest = string.sub(member, runIdLength + 2)
  local cut = string.find(rest, "\0", 1, true)
  local ns = string.sub(rest, 1, cut - 1)
  if string.byte(rest, cut + 1) ~= 0 then
    return ns, string.sub(rest, cut + 1), nil
  end
  local idEnd = string.find(rest, "\0", cut + 2, true)
  return ns, string.sub(rest, cut + 2, idEnd - 1), tonumber(string.sub(rest, idEnd + 1))
end

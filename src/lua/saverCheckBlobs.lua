--[[
  saverCheckBlobs: one page of the blob check saverDeleteForRuns leaves to its client on a long namespace: reads the
  next page of the namespace's checkpoints (in index order, after the last one the pass read) and answers which
  candidates they need, directly or as a delta base (include dropUnneededBlobs). The client drops those from its
  list and sends the rest with the next page. The page that reaches the namespace's end deletes the candidates still
  listed, in the same script, so a checkpoint appended meanwhile (a put goes to the end: ids grow with time) is read
  before anything goes.

  A checkpoint present from the pass's start to its end is read by one page; one put meanwhile needs the values of
  its parent (kept if a page read the parent) or new ones, and a delta base it leans on while the pages run is kept
  when the put lands at the end, read by the last page. One put in the middle of the index
  meanwhile, behind the pass, would not be: the last page therefore counts the namespace and deletes only when the
  count equals the checkpoints the pass read (answering -2 otherwise: the client starts the pass again). A checkpoint
  that a concurrent removal took away also changes the count: keeping the candidates is then the safe answer.

  KEYS[1] checkpoints   HASH  ns\0id -> framed checkpoint record
  KEYS[2] blobs         HASH  ns\0channel\0version -> framed channel value
  KEYS[3] byNamespace   ZSET or LIST  ns\0id (include checkpointIndex)
  KEYS[4] runFences     HASH  holds the "d<n>" mark (include blobSweep)

  ARGV[1] ns            the namespace
  ARGV[2] after         the last index member the pass read, "" for its first page
  ARGV[3] count         the most checkpoints this page reads
  ARGV[4] read          the checkpoints the pass's earlier pages read
  ARGV[5] last          "1" when this is the last namespace the client checks: its end takes back the call's count
                        of the "d<n>" mark
  ARGV[6..]             the candidate blob fields still listed (none: the page only ends the pass)

  Result: { after, read, needed, removed }: the last member this page read ("" once the namespace's end was
  reached), the checkpoints it read, the listed candidates they need (the client stops listing them), and either
  -1 (not the end yet), the number of blobs deleted (the end), or -2 (the end, but the namespace's count changed
  behind the pass: nothing deleted).

  Errors: none (a key of another Redis type fails with WRONGTYPE, reported as CorruptCheckpointError).

  Audit (optional, see include auditOutbox): event deleteForRuns (fields checkpoints 0, writes 0, blobs: the count
  deleted), when the end deleted blobs.
]]
-- @include auditOutbox
-- @include blobSweep
-- @include checkpointIndex
-- @include dropUnneededBlobs

local checkpoints, blobs, byNamespace, runFences = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local ns, after, count, readBefore = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local candidates = {}
for i = 6, #ARGV do
  candidates[ARGV[i]] = true
end

local fields, neededList = {}, {}
if #ARGV >= 6 then
  local from = after == "" and ("[" .. ns .. "\0") or ("(" .. after)
  fields = checkpointIndexRange(byNamespace, from, "(" .. ns .. "\1", false, 0, count)
  local needed = blobsNeededBy(checkpoints, blobs, fields, blobCheckChannels(ns, candidates))
  for i = 6, #ARGV do
    if needed[ARGV[i]] then
      neededList[#neededList + 1] = ARGV[i]
      candidates[ARGV[i]] = nil
    end
  end
  if #fields == count then
    return { fields[#fields], #fields, neededList, -1 }
  end
  if checkpointIndexLexCount(byNamespace, "[" .. ns .. "\0", "(" .. ns .. "\1") ~= readBefore + #fields then
    return { "", #fields, neededList, -2 }
  end
end

local removed = 0
for blobField in pairs(candidates) do
  removed = removed + redis.call("HDEL", blobs, blobField)
end
if ARGV[5] == "1" then
  blobSweepClearCheck(runFences)
end
if removed > 0 then
  auditEvent("deleteForRuns", "checkpoints", 0, "writes", 0, "blobs", removed)
end
return { "", #fields, neededList, removed }

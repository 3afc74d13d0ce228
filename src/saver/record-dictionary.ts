/**
 * Preset dictionaries for packed checkpoint records (FrameFormat.PACKED_RECORD, see record.ts). A packed record is
 * raw deflate of the record's PLAIN frame with one of these as the preset dictionary, so the JSON boilerplate every
 * LangGraph checkpoint and metadata repeats (field names, `__start__`, `branch:to:`, the frame's own type parts)
 * costs a back reference instead of its text.
 *
 * The id byte is stored in front of the deflated bytes; it is a packing id, shared with the token packing of
 * record-tokens.ts (id 2). A dictionary, once released, never changes: a new one gets the next free id and is added
 * beside it, so records packed with an earlier one stay readable. Writers use CURRENT_RECORD_DICTIONARY_ID for
 * records whose values are not JSON text (JSON records are token-packed).
 *
 * Deflate finds the nearest copy of a string first and codes near distances in fewer bits, so the text most
 * records hold is at the end: a typical PLAIN record frame (format byte, 4-byte lengths, "json" type parts) of a
 * LangGraph 1.x checkpoint without its channel values and of its metadata. Before it, text that only some records
 * hold: run and thread ids passed in the metadata, a subgraph's parents map, the tasks and interrupt channels, a
 * tools node, the other metadata sources, DeltaChannel counters.
 */

/** Dictionary 1: LangGraph 1.x checkpoints (format v4) and their metadata, as JsonPlusSerializer writes them. */
const RECORD_DICTIONARY_1 = [
  '"run_id":"","thread_id":"","parents":{"":"1f","__pregel_tasks":1,"__interrupt__":{},"tools":{"branch:to:tools":1},',
  '{"source":"update","step":1,"parents":{}},{"source":"fork","source":"input","step":-1,',
  '"delta_writes_versioned":true,"counters_since_delta_snapshot":{"messages":[1,2]}}',
  "\u0001\u0000\u0000\u0000\u0004json\u0000\u0000\u0001\u0020",
  '{"v":4,"id":"1f1e0000-0000-6000-8000-000000000000","ts":"2026-01-01T00:00:00.000Z",',
  '"channel_versions":{"__start__":1,"messages":2,"branch:to:agent":2},',
  '"versions_seen":{"__input__":{},"__start__":{"__start__":1},"agent":{"branch:to:agent":2}},',
  '"channel_values":{}}\u0000\u0000\u0000\u0004json\u0000\u0000\u0000\u0030',
  '{"source":"loop","step":1,"parents":{}',
].join("");

/** The dictionaries by id (the byte stored in front of a packed record's deflated bytes). */
export const RECORD_DICTIONARIES: ReadonlyMap<number, Buffer> = new Map([
  [1, Buffer.from(RECORD_DICTIONARY_1, "latin1")],
]);

/** The dictionary new records are packed with. */
export const CURRENT_RECORD_DICTIONARY_ID = 1;

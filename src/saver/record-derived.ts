/**
 * What a packed record (packing id 3, see record.ts) leaves out of the checkpoint's JSON because the record holds it
 * already: the checkpoint id, which is its hash field, and `channel_versions`, whose every entry is a line of its
 * refs text (`channel\0version`, in the same order). Together about 80 bytes of a 320-byte record.
 *
 * The stored JSON keeps the two keys with empty values (`"id":""`, `"channel_versions":{}`); reading puts the values
 * back into the first occurrence of each. Raw JSON text can hold those two sequences only as keys (a quote inside a
 * string is escaped), and the writer restores what it is about to store and compares bytes before it leaves
 * anything out: a record is written this way only when reading gives back exactly the serializer's bytes (versions
 * that are numbers, as LangGraph's are; checkpoint keys in the usual order), and with packing id 2 otherwise.
 */
import { decodeRefs } from "./codec.js";

const EMPTY_ID = '"id":""';
const EMPTY_VERSIONS = '"channel_versions":{}';

/**
 * The checkpoint JSON with its id and channel versions emptied, or undefined when reading could not restore it.
 * `versions`: the refs' [channel, version text] lines when the caller has them (the writer built the refs from
 * them), saving a parse of the refs.
 */
export function leaveOutDerived(
  json: Uint8Array,
  checkpointId: string,
  refs: string,
  versions?: readonly (readonly [string, string])[],
): Buffer | undefined {
  const bytes = Buffer.from(json.buffer, json.byteOffset, json.byteLength);
  const text = bytes.toString("utf8");
  const [idPart, versionsPart] = derivedParts(checkpointId, versions ?? decodeRefs(refs).channels);
  const reduced = text.replace(idPart, () => EMPTY_ID).replace(versionsPart, () => EMPTY_VERSIONS);
  if (reduced.length === text.length) return undefined;
  const restored = restoreText(reduced, idPart, versionsPart);
  // Text decoded without a replacement character was valid UTF-8, so equal text means equal bytes; otherwise the
  // bytes themselves are compared.
  if (restored !== text || (text.includes("\uFFFD") && !Buffer.from(restored, "utf8").equals(bytes))) return undefined;
  return Buffer.from(reduced, "utf8");
}

/** The checkpoint JSON as the serializer wrote it, from the stored one (leaveOutDerived's inverse). */
export function restoreDerived(stored: Buffer, checkpointId: string, refs: string): Buffer {
  const [idPart, versionsPart] = derivedParts(checkpointId, decodeRefs(refs).channels);
  return Buffer.from(restoreText(stored.toString("utf8"), idPart, versionsPart), "utf8");
}

function restoreText(text: string, idPart: string, versionsPart: string): string {
  return text.replace(EMPTY_ID, () => idPart).replace(EMPTY_VERSIONS, () => versionsPart);
}

/** `"id":<id>` and `"channel_versions":{...}` as the serializer writes them, the versions as JSON numbers. */
function derivedParts(checkpointId: string, versions: readonly (readonly [string, string])[]): [string, string] {
  let entries = "";
  for (const [channel, version] of versions)
    entries += `${entries === "" ? "" : ","}${JSON.stringify(channel)}:${version}`;
  return [`"id":${JSON.stringify(checkpointId)}`, `"channel_versions":{${entries}}`];
}

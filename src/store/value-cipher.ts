/**
 * How a store value is kept after its record header (item records and history entries alike): compressed (the
 * `compression` option) and sealed (the `encryption` option), compression first, since sealed bytes do not
 * compress. The first byte tells the forms apart, so items written with any settings stay readable under any others:
 *
 *   "{" ...            the JSON itself
 *   0x01 + deflate     the JSON compressed with raw deflate (a JSON object never starts with 0x01)
 *   "~" + base64       a sealed record (encryption/cipher.ts) of the JSON, as text
 *   "LGE" ...          a sealed record as bytes; its plaintext is 0x01 + deflate (written for compressed values,
 *                      whose bytes would grow by a third as base64)
 *
 * The item's namespace and key are authenticated with a sealed value, so a ciphertext copied to another item fails
 * like a changed one. Headers (version, times, writer) stay readable, since the scripts need them. A compressed
 * value that would inflate beyond `maxValueBytes` is refused (DecompressionLimitError) before that memory is taken.
 */

import { type Compression, decompressSync, maybeCompressSync } from "../compression.js";
import { RecordCipher } from "../encryption/cipher.js";
import { CorruptDataError, EncryptionError, encryptionErrorAt, PlaintextRecordError } from "../errors.js";

/** What encoding values needs of the store's context (kept this narrow so the codec does not depend on it). */
interface ValueCodecHolder {
  readonly cipher: RecordCipher | undefined;
  readonly compression: Compression | undefined;
  readonly options: { readonly maxValueBytes: number };
}

const SEALED_MARK = "~";
const SEALED_MARK_BYTE = 0x7e;
const DEFLATED_MARK = 0x01;
const DEFLATED_PREFIX = Buffer.from([DEFLATED_MARK]);

function aad(namespace: readonly string[], key: string): string {
  return JSON.stringify([namespace, key]);
}

/** A value as stored, and as the audit trail records it (the JSON, or the sealed record as "~" + base64). */
export interface StoredValue {
  readonly stored: string | Buffer;
  readonly auditText: string;
}

/** The stored form of `json` under the store's compression and encryption settings ("" stays "": a delete). */
export function storedValue(
  ctx: ValueCodecHolder,
  json: string,
  namespace: readonly string[],
  key: string,
): StoredValue {
  if (json === "" || (ctx.cipher === undefined && ctx.compression === undefined)) {
    return { stored: json, auditText: json };
  }
  const utf8 = Buffer.from(json, "utf8");
  const deflated = maybeCompressSync(ctx.compression, utf8);
  const cipher = ctx.cipher;
  if (cipher === undefined) {
    return { stored: deflated ? Buffer.concat([DEFLATED_PREFIX, deflated]) : json, auditText: json };
  }
  if (deflated === undefined) {
    const text = SEALED_MARK + cipher.seal(utf8, aad(namespace, key)).toString("base64");
    return { stored: text, auditText: text };
  }
  const sealed = cipher.seal(Buffer.concat([DEFLATED_PREFIX, deflated]), aad(namespace, key));
  return { stored: sealed, auditText: SEALED_MARK + sealed.toString("base64") };
}

/** Turns a stored value back into JSON text; refuses plaintext under requireEncrypted. */
export type ValueReader = (stored: Buffer) => string;

export function valueReader(
  ctx: ValueCodecHolder,
  namespace: readonly string[],
  key: string,
  redisKey: string,
): ValueReader {
  const cipher = ctx.cipher;
  const label = () => `Item ${JSON.stringify([...namespace, key])}`;
  const plain = (bytes: Buffer): string =>
    bytes[0] === DEFLATED_MARK
      ? decompressSync(bytes.subarray(1), ctx.options.maxValueBytes, redisKey, label).toString("utf8")
      : bytes.toString("utf8");
  return (stored) => {
    const textSealed = stored[0] === SEALED_MARK_BYTE;
    const sealed = textSealed || RecordCipher.isSealed(stored);
    if (cipher === undefined) {
      if (sealed) {
        throw new CorruptDataError(redisKey, `item ${JSON.stringify(key)} is encrypted; configure \`encryption\``);
      }
      return plain(stored);
    }
    if (!sealed) {
      if (cipher.requireEncrypted) {
        throw new PlaintextRecordError(
          `Item ${JSON.stringify([...namespace, key])} is stored unencrypted and requireEncrypted is on; it was not read`,
          { key: redisKey },
        );
      }
      return plain(stored);
    }
    let opened: Buffer;
    try {
      const bytes = textSealed ? Buffer.from(stored.toString("latin1", 1), "base64") : stored;
      opened = cipher.open(bytes, aad(namespace, key), label());
    } catch (error) {
      if (error instanceof EncryptionError) throw encryptionErrorAt(error, redisKey);
      throw error;
    }
    return plain(opened);
  };
}

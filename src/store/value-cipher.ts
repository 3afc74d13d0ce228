/**
 * Value encryption for RedisStore (the `encryption` option). A sealed value is stored as "~" and the base64 of a
 * sealed record (see encryption/cipher.ts) where the JSON would be; a JSON object always starts with "{", so the two
 * never mix up. The item's namespace and key are authenticated with the value, so a ciphertext copied to another
 * item fails like a changed one. Item and history records both carry sealed values; headers (version, times,
 * writer) stay readable, since the scripts need them.
 */

import type { RecordCipher } from "../encryption/cipher.js";
import { CorruptDataError, EncryptionError, encryptionErrorAt, PlaintextRecordError } from "../errors.js";

/** What sealing needs of the store's context (kept this narrow so the codec does not depend on the context). */
interface CipherHolder {
  readonly cipher: RecordCipher | undefined;
}

const SEALED_MARK = "~";

function aad(namespace: readonly string[], key: string): string {
  return JSON.stringify([namespace, key]);
}

/** The text stored for `json`: the JSON itself, or its sealed form when encryption is on. */
export function sealValue(ctx: CipherHolder, json: string, namespace: readonly string[], key: string): string {
  const cipher = ctx.cipher;
  if (cipher === undefined || json === "") return json;
  return SEALED_MARK + cipher.seal(Buffer.from(json, "utf8"), aad(namespace, key)).toString("base64");
}

/** Turns stored value text back into JSON text; refuses plaintext under requireEncrypted. */
export type ValueReader = (stored: string) => string;

export function valueReader(
  ctx: CipherHolder,
  namespace: readonly string[],
  key: string,
  redisKey: string,
): ValueReader {
  const cipher = ctx.cipher;
  return (stored) => {
    const sealed = stored.startsWith(SEALED_MARK);
    if (cipher === undefined) {
      if (sealed) {
        throw new CorruptDataError(redisKey, `item ${JSON.stringify(key)} is encrypted; configure \`encryption\``);
      }
      return stored;
    }
    if (!sealed) {
      if (cipher.requireEncrypted) {
        throw new PlaintextRecordError(
          `Item ${JSON.stringify([...namespace, key])} is stored unencrypted and requireEncrypted is on; it was not read`,
          { key: redisKey },
        );
      }
      return stored;
    }
    try {
      const bytes = Buffer.from(stored.slice(SEALED_MARK.length), "base64");
      return cipher.open(bytes, aad(namespace, key), `Item ${JSON.stringify([...namespace, key])}`).toString("utf8");
    } catch (error) {
      if (error instanceof EncryptionError) throw encryptionErrorAt(error, redisKey);
      throw error;
    }
  };
}

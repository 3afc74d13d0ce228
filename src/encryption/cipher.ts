/**
 * AES-256-GCM sealing of records (node:crypto). A sealed record is self-describing, so any key that ever wrote a
 * record can read it back, and the reader can tell a sealed record from a plaintext one:
 *
 *   "LGE" | version (1) | key id length (1) | key id (ASCII) | IV (12, random) | tag (16) | ciphertext
 *
 * `aad` binds a record to what it is (the serializer type, or the store item it belongs to): a ciphertext moved to
 * another place fails authentication like a changed one.
 */
import {
  type CipherGCM,
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { TamperedRecordError, UnknownEncryptionKeyError } from "../errors.js";
import { type EncryptionOptions, type ParsedEncryptionOptions, parseEncryptionOptions } from "./options.js";

const MAGIC = Buffer.from("LGE", "latin1");
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class RecordCipher {
  readonly currentKeyId: string;
  readonly requireEncrypted: boolean;
  readonly #keys: Map<string, KeyObject>;
  readonly #header: Buffer;

  constructor(options: EncryptionOptions | ParsedEncryptionOptions, owner = "encryption") {
    const parsed = parseEncryptionOptions(options, owner);
    this.#keys = new Map(
      Object.entries(parsed.keys).map(([id, key]) => [
        id,
        createSecretKey(typeof key === "string" ? Buffer.from(key, "base64") : Buffer.from(key)),
      ]),
    );
    this.currentKeyId = parsed.currentKeyId;
    this.requireEncrypted = parsed.requireEncrypted;
    const id = Buffer.from(parsed.currentKeyId, "ascii");
    this.#header = Buffer.concat([MAGIC, Buffer.from([VERSION, id.length]), id]);
  }

  /** True when `bytes` starts like a sealed record (it may still fail to open). */
  static isSealed(bytes: Uint8Array): boolean {
    return bytes.length >= 3 && bytes[0] === MAGIC[0] && bytes[1] === MAGIC[1] && bytes[2] === MAGIC[2];
  }

  /** The key id a sealed record names in its header, without opening it; undefined when it names none readably. */
  static keyIdOf(bytes: Uint8Array): string | undefined {
    if (!RecordCipher.isSealed(bytes) || bytes.length < 5 || bytes[3] !== VERSION) return undefined;
    const idLength = bytes[4] as number;
    if (idLength === 0 || bytes.length < 5 + idLength) return undefined;
    return Buffer.from(bytes.buffer, bytes.byteOffset + 5, idLength).toString("ascii");
  }

  /** Bytes added to every record: header, key id, IV and tag. */
  get overheadBytes(): number {
    return this.#header.length + IV_BYTES + TAG_BYTES;
  }

  seal(plain: Uint8Array, aad: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#keys.get(this.currentKeyId) as KeyObject, iv) as CipherGCM;
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([this.#header, iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext of a sealed record; TamperedRecordError or UnknownEncryptionKeyError when it cannot be opened. */
  open(sealed: Uint8Array, aad: string, what: string): Buffer {
    const bytes = Buffer.isBuffer(sealed) ? sealed : Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (!RecordCipher.isSealed(bytes) || bytes.length < 5) {
      throw new TamperedRecordError(`${what} is not a sealed record`);
    }
    if (bytes[3] !== VERSION) throw new TamperedRecordError(`${what} has an unknown envelope version ${bytes[3]}`);
    const idLength = bytes[4] as number;
    const ivStart = 5 + idLength;
    const bodyStart = ivStart + IV_BYTES + TAG_BYTES;
    if (idLength === 0 || bytes.length < bodyStart) throw new TamperedRecordError(`${what} is truncated`);
    const keyId = bytes.subarray(5, ivStart).toString("ascii");
    const key = this.#keys.get(keyId);
    if (key === undefined) {
      throw new UnknownEncryptionKeyError(
        keyId,
        `${what} was encrypted with key id ${JSON.stringify(keyId)}, which is not among the keys given`,
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(ivStart, ivStart + IV_BYTES));
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(bytes.subarray(ivStart + IV_BYTES, bodyStart));
      return Buffer.concat([decipher.update(bytes.subarray(bodyStart)), decipher.final()]);
    } catch (error) {
      throw new TamperedRecordError(`${what} failed authentication: it was changed, truncated or moved`, {
        cause: error,
      });
    }
  }
}

import { JsonPlusSerializer, type SerializerProtocol } from "@langchain/langgraph-checkpoint";
import { PlaintextRecordError } from "../errors.js";
import { RecordCipher } from "./cipher.js";
import type { EncryptionOptions } from "./options.js";

/** Marks a sealed record's type: `json` becomes `json+aes256gcm`. */
const TYPE_SUFFIX = "+aes256gcm";

/**
 * What a reader without EncryptedSerializer is told of a value EncryptedSerializer wrote (its type ends in
 * `+aes256gcm`), instead of the plain serializer's "unknown serialization type"; undefined for any other type.
 */
export function sealedValueHint(type: string, bytes: Uint8Array): string | undefined {
  if (!type.endsWith(TYPE_SUFFIX)) return undefined;
  const keyId = RecordCipher.keyIdOf(bytes);
  return (
    `it is encrypted (type ${JSON.stringify(type)}${keyId === undefined ? "" : `, key id ${JSON.stringify(keyId)}`}) ` +
    "and this reader has no EncryptedSerializer: give it serde: new EncryptedSerializer({ keys, currentKeyId }) " +
    "holding that key (docs/encryption.md)"
  );
}

export interface EncryptedSerializerOptions extends EncryptionOptions {
  /** The serializer whose output is encrypted. Default: LangGraph's JsonPlusSerializer. */
  serde?: SerializerProtocol;
}

/**
 * A SerializerProtocol that encrypts what another serializer writes (AES-256-GCM, a key id in every record) and
 * decrypts on read. Give it to RedisSaver (or RedisCache) as `serde`. The inner type is authenticated with the
 * value, so a record cannot be relabelled. See docs/encryption.md.
 */
export class EncryptedSerializer implements SerializerProtocol {
  readonly #inner: SerializerProtocol;
  readonly #cipher: RecordCipher;

  constructor(options: EncryptedSerializerOptions) {
    const { serde, ...encryption } = options ?? ({} as EncryptedSerializerOptions);
    this.#cipher = new RecordCipher(encryption, "EncryptedSerializer");
    this.#inner = serde ?? new JsonPlusSerializer();
  }

  /** The key id new records are written with. */
  get currentKeyId(): string {
    return this.#cipher.currentKeyId;
  }

  async dumpsTyped(value: unknown): Promise<[string, Uint8Array]> {
    const [type, bytes] = await this.#inner.dumpsTyped(value);
    return [`${type}${TYPE_SUFFIX}`, this.#cipher.seal(bytes, type)];
  }

  async loadsTyped(type: string, data: Uint8Array | string): Promise<unknown> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    if (type.endsWith(TYPE_SUFFIX)) {
      const innerType = type.slice(0, -TYPE_SUFFIX.length);
      return this.#inner.loadsTyped(innerType, this.#cipher.open(bytes, innerType, `A ${innerType} record`));
    }
    if (this.#cipher.requireEncrypted) {
      throw new PlaintextRecordError(
        `A record of type ${JSON.stringify(type)} is not encrypted and requireEncrypted is on; it was not read`,
      );
    }
    return this.#inner.loadsTyped(type, data);
  }
}

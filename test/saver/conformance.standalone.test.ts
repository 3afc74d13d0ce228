import { newRedis } from "../helpers/redis.js";
import { runConformanceSuite } from "./conformance-helpers.js";

runConformanceSuite("RedisSaver (standalone)", newRedis);

import { newCluster } from "../helpers/redis.js";
import { runConformanceSuite } from "./conformance-helpers.js";

runConformanceSuite("RedisSaver (cluster)", newCluster);

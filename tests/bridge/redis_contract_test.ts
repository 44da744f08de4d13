// RedisBridge runs the bridge contract suite with each client library the runtime has:
// node-redis on Deno and Bun, Bun's built-in RedisClient on Bun.
import { clientKinds } from "../helpers/redis.ts";
import { redisFixture } from "./buses.ts";
import { bridgeContractTests } from "./contract.ts";

for (const kind of clientKinds) bridgeContractTests(`RedisBridge (${kind.name})`, redisFixture(kind));

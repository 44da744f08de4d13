// BroadcastChannelBridge runs the bridge contract suite (bridges in one thread).
import { broadcastChannelFixture } from "./buses.ts";
import { bridgeContractTests } from "./contract.ts";

bridgeContractTests("BroadcastChannelBridge", broadcastChannelFixture());

// Every server RPC gets an answer: the handler's reply, or an error reply when the handler
// throws. Never silence: the caller in ThingsBoard would wait for a 408.
import type { RpcReply } from "../rpc/types.ts";
import type { Logger } from "../util/logger.ts";

/** Runs `call`, publishes its reply (encoded by `body`) on `topic`; resolves true once answered. */
export async function answerRpc(
  what: string,
  call: () => Promise<RpcReply>,
  topic: string,
  body: (data: unknown) => string,
  publish: (topic: string, payload: string) => Promise<void>,
  log: Logger,
): Promise<boolean> {
  let reply: RpcReply;
  try {
    reply = await call();
  } catch (err) {
    reply = { ok: false, data: { success: false, error: `internal error: ${(err as Error).message}` } };
  }
  try {
    await publish(topic, body(reply.data ?? null));
    return true;
  } catch (err) {
    log.warn(`could not answer ${what}: ${(err as Error).message}`);
    return false;
  }
}

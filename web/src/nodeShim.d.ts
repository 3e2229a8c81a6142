// server/util/json.ts and server/gateway/protocol.ts mention Buffer in function signatures. The
// page imports only their types, so a stand-in lets the DOM-only type-check run without
// pulling Node's globals (whose timers would clash with the DOM's) into web/.
interface Buffer extends Uint8Array {
  toString(encoding?: string): string;
}

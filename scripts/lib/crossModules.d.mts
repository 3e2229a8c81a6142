// Types of crossModules.mjs (plain JS: package.mjs runs on node alone), for the tests.
export interface Target {
  nodePackage: string;
  toolPrefix: string;
  compilerPackages: string[];
  qemu?: { package: string; command: string; sysroot: string };
}
export interface NodeRuntime {
  dir: string;
  version: string;
  abi: string;
}
type Log = (msg: string) => void;
export const ELF_MACHINE: Readonly<Record<"arm64" | "arm" | "x64", number>>;
export const TARGETS: Readonly<Record<"arm64" | "x64", Target>>;
export function cacheRoot(env?: NodeJS.ProcessEnv): string;
export function modulesCacheKey(o: { lockfile: string; nodeVersion: string; arch: string }): string;
export function elfMachine(file: string): number | undefined;
export function foreignBinaries(dir: string, arch: string): string[];
export function nodeAbiOf(nodeDir: string): string;
export function ensureHostPackages(packages: string[], log: Log): void;
export function fetchNodeRuntime(o: { arch: string; spec: string; cache: string; log: Log }): NodeRuntime;
export function crossBuildModules(o: { root: string; arch: string; node: NodeRuntime; cache: string; log: Log }): {
  dir: string;
  key: string;
  cached: boolean;
};

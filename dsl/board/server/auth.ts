// The board's access token: random per start (or LFT_BOARD_TOKEN), accepted as the `lft_board`
// cookie (set by opening the printed link) or an `Authorization: Bearer` header, compared in
// constant time.

import { randomBytes, timingSafeEqual } from "node:crypto";

export const cookieName = "lft_board";

export function newToken(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = env.LFT_BOARD_TOKEN?.trim();
  return given ? given : randomBytes(32).toString("hex");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function cookieValue(req: Request, name = cookieName): string | undefined {
  const header = req.headers.get("cookie");
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined; // malformed %-escapes: no token
      }
    }
  }
  return undefined;
}

/** Whether the request carries the token (cookie or bearer header). */
export function authorized(req: Request, token: string): boolean {
  const bearer = req.headers.get("authorization");
  if (bearer?.startsWith("Bearer ") && same(bearer.slice(7).trim(), token)) return true;
  const cookie = cookieValue(req);
  return cookie !== undefined && same(cookie, token);
}

/** `?token=T` on `/`: set the cookie and drop the token from the address bar. */
export function loginResponse(token: string): Response {
  return new Response(null, {
    status: 302,
    headers: { location: "/", "set-cookie": `${cookieName}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict` },
  });
}

export function tokenMatches(given: string | null, token: string): boolean {
  return given !== null && same(given, token);
}

export const unauthorizedPage = `<!doctype html><meta charset="utf-8"><title>lft board</title>
<body style="font-family:sans-serif;margin:3em"><h1>lft board</h1><p>This board needs its access token: open the link printed by <code>lft board</code> (it ends in <code>?token=...</code>).</p></body>`;

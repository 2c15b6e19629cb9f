// The Hub's HTTP failures as messages a user can act on (a gated repo names HF_TOKEN).
import { HubApiError } from "@huggingface/hub";

export function hubFailure(error: unknown, what: string, tokenSet: boolean): string {
  if (error instanceof HubApiError) {
    if (error.statusCode === 401 || error.statusCode === 403)
      return tokenSet
        ? `${what}: the Hub refused access (HTTP ${error.statusCode}) with the token in HF_TOKEN; the repo may be gated: accept its terms on its Hub page with that account, or check the token`
        : `${what}: the Hub refused access (HTTP ${error.statusCode}): the repo is gated or private; set HF_TOKEN to a token of an account that has accepted its terms`;
    if (error.statusCode === 404) return `${what}: not found on the Hub (HTTP 404): check the id and revision`;
    return `${what}: the Hub answered HTTP ${error.statusCode}: ${error.message.split(". URL:")[0]}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `${what}: ${message} (set HF_HUB_OFFLINE=1 to use only the local cache)`;
}

// A blockchain JSON-RPC call (eth_blockNumber) to one of RPC_URLS. The URL may carry a
// provider's API key in its path, so it is never logged or stored: only its host is.
// https://ethereum.org/en/developers/docs/apis/json-rpc/#eth_blocknumber

export function endpointHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
}

export async function blockNumber(url: string, timeoutMs: number): Promise<bigint> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`${endpointHost(url)} answered HTTP ${res.status}`);
  const body = (await res.json()) as { result?: unknown; error?: { message?: string } };
  if (typeof body.result !== 'string' || !/^0x[0-9a-fA-F]+$/.test(body.result)) {
    throw new Error(`${endpointHost(url)} answered no block number${body.error?.message ? `: ${body.error.message}` : ''}`);
  }
  return BigInt(body.result);
}

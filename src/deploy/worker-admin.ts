/**
 * The worker's loopback admin route as the agent calls it: `GET` the live weights of a model
 * (to notice drift), `PUT` the weights the rollout wants.
 */
const trafficUrl = (worker: string, model: string) =>
  `${worker}/v2/admin/models/${encodeURIComponent(model)}/traffic`;

/** The weights the worker routes `model` by, or undefined when it cannot say. */
export async function readWeights(
  worker: string,
  model: string,
): Promise<Record<string, number> | undefined> {
  const res = await fetch(trafficUrl(worker, model), { signal: AbortSignal.timeout(5000) }).catch(
    () => undefined,
  );
  if (res?.ok !== true) {
    await res?.body?.cancel();
    return undefined;
  }
  return ((await res.json()) as { weights?: Record<string, number> }).weights;
}

/** Sets `model`'s weights; answers why it failed, or undefined. */
export async function writeWeights(
  worker: string,
  model: string,
  weights: Readonly<Record<string, number>>,
): Promise<string | undefined> {
  try {
    const res = await fetch(trafficUrl(worker, model), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ weights }),
      signal: AbortSignal.timeout(5000),
    });
    const text = await res.text();
    return res.ok ? undefined : `HTTP ${String(res.status)} ${text}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

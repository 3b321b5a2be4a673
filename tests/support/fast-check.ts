// fast-check with one seed for the whole run: fixed by default, so CI is deterministic; printed, so
// any failure can be replayed; FC_SEED=<number> replays one, FC_SEED=random explores.
import fc from "fast-check";

export const DEFAULT_SEED = 20261126;

export function seedFrom(value: string | undefined): number {
  if (value === undefined || value === "") return DEFAULT_SEED;
  if (value === "random") return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(value);
  if (!Number.isSafeInteger(seed))
    throw new Error(`FC_SEED must be an integer or "random", got ${JSON.stringify(value)}`);
  return seed;
}

export const SEED = seedFrom(process.env.FC_SEED);
fc.configureGlobal({ seed: SEED });
console.log(`fast-check seed ${SEED} (replay with FC_SEED=${SEED}; explore with FC_SEED=random)`);

export { fc };

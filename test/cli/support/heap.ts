/**
 * Heap measurements for bounds tests: the heap in use after full garbage collections. Not
 * wall-clock; a test asserts a bound on growth, with room for noise.
 */
import {setFlagsFromString} from 'node:v8';
import {runInNewContext} from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Bytes of heap in use after full collections, with a turn of the event loop between them
 * (finalization callbacks, which free what FinalizationRegistry entries hold, run there).
 */
export async function heapAfterGc(): Promise<number> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gc();
  return process.memoryUsage().heapUsed;
}

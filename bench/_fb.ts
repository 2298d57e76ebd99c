import {startGoogleEmulator} from '../src/emulator/index.js';
import {printTable} from './table.js';
import {FETCH_COLUMNS, runFetchBench} from './fetch.bench.js';
const emulator = await startGoogleEmulator();
printTable('googleAuthFetch overhead', await runFetchBench(emulator), FETCH_COLUMNS);
await emulator.close();

// The `leadrouter` command as a function: `run(argv, io)` resolves with the
// exit code and never exits the process, so it can run inside another program
// (the tests run most commands this way). src/main.ts is the process around it.
export { EXIT, run, type Io } from './program.js';

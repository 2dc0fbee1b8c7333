import { runSynthCommand } from './synth-command';

// `npm run synth -- --target … --kind … --out DIR`: an example stack for people to read.
runSynthCommand(process.argv.slice(2)).then(
  (message) => console.log(message),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);

import process from 'node:process';
// Runs when the native scanner (native/scan.cc) could not be compiled during `npm install`:
// Cairn still works, with the JavaScript walker for every scan, so the install goes on.
process.stderr.write(
  'cairn: the native tree scanner did not build (see the node-gyp output above); ' +
    'no-op status and add will use the slower JavaScript walker.\n',
);

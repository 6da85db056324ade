/** Generated experiment names, `<adjective>-<noun>` as DVC makes them (`messy-tire`). */
import { randomInt } from 'node:crypto';

// Our own short, plain words; two random picks give 4,000+ names per baseline.
const ADJECTIVES = (
  'amber bold brisk calm cheap chewy civic coral crisp dusty eager early faint famous fancy ' +
  'fiery fluid fresh frosty funny gaudy giant glad gusty handy hardy hasty hazy humid icy ' +
  'jolly jumpy kind leafy lofty lucky lusty mellow merry messy mossy muddy noble nutty oaken ' +
  'pale peaky plush proud quick quiet rainy rapid regal rocky rosy rusty sandy shaky sharp ' +
  'shiny silky sleek slimy snowy solid spicy stony sunny swift tawny tidal tidy vivid wacky warm ' +
  'windy witty zesty'
).split(' ');
const NOUNS = (
  'acre alder apex atom bale bark basin bead bell berm birch bison bolt bough brook buoy cabin ' +
  'canal cedar chalk cider cliff cloud comet coral crane creek crow dune eagle elm ember fern ' +
  'fjord flint forge frost gale gourd grove gulch hawk heath hedge hull inlet iris kiln knoll ' +
  'lagoon larch ledge lynx maple marsh mesa mint moss moth oasis otter pail pear pine plume pond ' +
  'quail quartz raft reed ridge rook sage shoal slate sloth spade spruce stump swan thorn tire ' +
  'tulip vale wasp wharf wren yak'
).split(' ');

/** A fresh name not in `taken`; random, so concurrent runs rarely collide (update-ref refuses if they do). */
export function generateName(taken: ReadonlySet<string>): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const a = ADJECTIVES[randomInt(ADJECTIVES.length)] ?? 'quick';
    const n = NOUNS[randomInt(NOUNS.length)] ?? 'tire';
    const name = attempt < 500 ? `${a}-${n}` : `${a}-${n}-${String(randomInt(1000))}`;
    if (!taken.has(name)) return name;
  }
  throw new Error('Internal error: no free experiment name after 1000 attempts');
}

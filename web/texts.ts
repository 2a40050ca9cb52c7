/** Texts to pick in the playground (public domain). Moby Dick's first chapter is fetched from texts/ (copied there by tools/build-web.mjs). */
export const TEXTS: Record<string, { label: string; text?: string; url?: string }> = {
  moby: { label: 'Moby Dick, chapter 1 (Melville, 12 KB)', url: 'texts/moby-dick-1.txt' },
  sonnet: {
    label: 'Sonnet 18 (Shakespeare)',
    text: `Shall I compare thee to a summer's day?
Thou art more lovely and more temperate:
Rough winds do shake the darling buds of May,
And summer's lease hath all too short a date;
Sometime too hot the eye of heaven shines,
And often is his gold complexion dimm'd;
And every fair from fair sometime declines,
By chance or nature's changing course untrimm'd;
But thy eternal summer shall not fade,
Nor lose possession of that fair thou ow'st;
Nor shall death brag thou wander'st in his shade,
When in eternal lines to time thou grow'st:
So long as men can breathe or eyes can see,
So long lives this, and this gives life to thee.
`,
  },
  counting: {
    label: 'Counting (a toy with long-range structure)',
    text: Array.from({ length: 200 }, (_, i) => `${i} is ${i % 2 ? 'odd' : 'even'}.`).join(' ') + '\n',
  },
};

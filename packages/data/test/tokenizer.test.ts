import { describe, expect, it } from 'vitest';
import { DatasetError, KERAS_DEFAULT_FILTERS, Tokenizer, textToWordSequence } from '../src/index.js';

const texts = ['The cat sat on the mat.', 'The dog ate my homework!'];

describe('textToWordSequence (Keras text_to_word_sequence)', () => {
  it('lower-cases, replaces filter characters with the split char and drops empties', () => {
    expect(textToWordSequence("Hello, World!! It's\tdone\n--ok")).toEqual(['hello', 'world', "it's", 'done', 'ok']);
  });
  it('keeps characters that are not in the default filters (\\r, apostrophe, unicode)', () => {
    expect(KERAS_DEFAULT_FILTERS).toBe('!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n');
    expect(textToWordSequence('a\r\nb Über’s')).toEqual(['a\r', 'b', 'über’s']);
  });
  it('honours lower=false, custom filters and custom (multi-character) split', () => {
    expect(textToWordSequence('The THE', KERAS_DEFAULT_FILTERS, false)).toEqual(['The', 'THE']);
    expect(textToWordSequence('a-b|c d', '-', true, '|')).toEqual(['a', 'b', 'c d']);
    expect(textToWordSequence('a||b||||c', '', true, '||')).toEqual(['a', 'b', 'c']);
    expect(textToWordSequence('a$b', '$', true, '$$')).toEqual(['a', 'b']);
    expect(textToWordSequence('x😀y', '😀')).toEqual(['x', 'y']);
  });
});

describe('Tokenizer (Keras rules)', () => {
  it('builds word_index by count desc, ties in first-occurrence order, from 1', () => {
    const t = new Tokenizer();
    t.fitOnTexts(texts);
    expect(Object.fromEntries(t.wordIndex)).toEqual({ the: 1, cat: 2, sat: 3, on: 4, mat: 5, dog: 6, ate: 7, my: 8, homework: 9 });
    expect([...t.wordIndex.keys()]).toEqual(['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ate', 'my', 'homework']);
    expect(t.wordCounts.get('the')).toBe(3);
    expect(t.documentCount).toBe(2);
    expect(t.textsToSequences(texts)).toEqual([[1, 2, 3, 4, 1, 5], [1, 6, 7, 8, 9]]);
  });
  it('breaks ties by first occurrence even when a later word overtakes', () => {
    const t = new Tokenizer();
    t.fitOnTexts(['x y y', 'z z z x']);
    expect(Object.fromEntries(t.wordIndex)).toEqual({ z: 1, x: 2, y: 3 });
    const u = new Tokenizer();
    u.fitOnTexts(['b a', 'a c b c']);
    expect([...u.wordIndex.keys()]).toEqual(['b', 'a', 'c']);
  });
  it('num_words does not change word_index; texts_to_sequences drops indices >= num_words', () => {
    const t = new Tokenizer({ numWords: 3 });
    t.fitOnTexts(texts);
    expect(t.wordIndex.size).toBe(9);
    expect(t.textsToSequences(texts)).toEqual([[1, 2, 1], [1]]);
    expect(t.textsToSequences(['unknown words the'])).toEqual([[1]]);
  });
  it('oov_token takes index 1, shifts the rest and replaces unknown and rare words', () => {
    const t = new Tokenizer({ oovToken: '<OOV>' });
    t.fitOnTexts(texts);
    expect(Object.fromEntries(t.wordIndex)).toEqual({ '<OOV>': 1, the: 2, cat: 3, sat: 4, on: 5, mat: 6, dog: 7, ate: 8, my: 9, homework: 10 });
    expect(t.textsToSequences(['the bird cat'])).toEqual([[2, 1, 3]]);
    const r = new Tokenizer({ oovToken: '<OOV>', numWords: 3 });
    r.fitOnTexts(texts);
    expect(r.textsToSequences(texts)).toEqual([[2, 1, 1, 1, 2, 1], [2, 1, 1, 1, 1]]);
  });
  it('like Keras dict(zip(...)), an OOV token that is also a word ends up with the later index', () => {
    const t = new Tokenizer({ oovToken: 'oov' });
    t.fitOnTexts(['x oov oov']);
    expect(Object.fromEntries(t.wordIndex)).toEqual({ oov: 2, x: 3 });
    expect(t.textsToSequences(['x y'])).toEqual([[3, 2]]);
  });
  it('lower=false keeps case variants as separate words', () => {
    const t = new Tokenizer({ lower: false });
    t.fitOnTexts(['The the THE the']);
    expect(Object.fromEntries(t.wordIndex)).toEqual({ the: 1, The: 2, THE: 3 });
  });
  it('accumulates counts over several fitOnTexts calls', () => {
    const t = new Tokenizer();
    t.fitOnTexts(['a b']);
    t.fitOnTexts(['b c']);
    expect(Object.fromEntries(t.wordIndex)).toEqual({ b: 1, a: 2, c: 3 });
    expect(t.documentCount).toBe(2);
    expect(t.wordDocs.get('b')).toBe(2);
  });
  it('rejects char_level and an empty split', () => {
    expect(() => new Tokenizer({ charLevel: true as unknown as false })).toThrow(/char_level/);
    expect(() => new Tokenizer({ split: '' })).toThrow(DatasetError);
  });
  it('round-trips through the Keras to_json layout, keeping integer-like words in order', () => {
    const t = new Tokenizer({ numWords: 5, oovToken: '<unk>' });
    t.fitOnTexts(['10 2 b 10', 'b 2 zz']);
    const json = JSON.parse(JSON.stringify(t)) as { class_name: string; config: Record<string, unknown> };
    expect(json.class_name).toBe('Tokenizer');
    expect(json.config.num_words).toBe(5);
    expect(JSON.parse(json.config.word_index as string)).toEqual(Object.fromEntries(t.wordIndex));
    const u = Tokenizer.fromJSON(json);
    expect([...u.wordIndex]).toEqual([...t.wordIndex]);
    expect([...u.wordCounts]).toEqual([...t.wordCounts]);
    expect(u.documentCount).toBe(2);
    expect(u.textsToSequences(['zz 10 q'])).toEqual(t.textsToSequences(['zz 10 q']));
    t.fitOnTexts(['zz 2']);
    u.fitOnTexts(['zz 2']);
    expect([...u.wordIndex]).toEqual([...t.wordIndex]);
  });
  it('fromJSON rejects malformed input with DATASET_CORRUPT', () => {
    for (const bad of [null, 'not json', { class_name: 'Other' }, { class_name: 'Tokenizer', config: { filters: '', lower: true, split: ' ', document_count: 1, word_counts: '{"a": "x"}' } }]) {
      expect(() => Tokenizer.fromJSON(bad)).toThrow(expect.objectContaining({ code: 'DATASET_CORRUPT' }));
    }
  });
});

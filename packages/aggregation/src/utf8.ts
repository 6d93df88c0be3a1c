/**
 * UTF-8 length of a string. Partition keys are usually short ASCII: counted in JavaScript, with no
 * call into C++; anything else goes to Buffer.byteLength.
 */
export function utf8ByteLength(value: string): number {
  const length = value.length;
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) > 0x7f) return Buffer.byteLength(value, 'utf8');
  return length;
}

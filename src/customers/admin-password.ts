import { randomInt } from 'node:crypto';

const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const DIGITS = '23456789';
const SYMBOLS = '!@#$%^&*()-_=+?';
const ALL = UPPER + LOWER + DIGITS + SYMBOLS;
const LENGTH = 20;

/**
 * The new customer's admin password (CONTRACT 5.6): 20 characters from a CSPRNG with at least one
 * upper, lower, digit and symbol. Returned once and never stored.
 */
export function generateAdminPassword(): string {
  const chars = [UPPER, LOWER, DIGITS, SYMBOLS].map(pick);
  while (chars.length < LENGTH) chars.push(pick(ALL));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j], chars[i]];
  }
  return chars.join('');
}

function pick(alphabet: string): string {
  return alphabet[randomInt(alphabet.length)];
}

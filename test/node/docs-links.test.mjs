// The README is short and sends readers to docs/ for the rest: every relative link in it and in
// docs/*.md must reach a file of the repository, and a heading of that file when it names one.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const documents = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
]

/** Markdown without its fenced code blocks, where link-like text is code, not a link. */
const prose = (markdown) => markdown.replace(/^```[\s\S]*?^```/gm, '')

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')

function anchorsOf(file) {
  const headings = prose(readFileSync(file, 'utf8')).match(/^#{1,6} .*$/gm) ?? []
  return new Set(headings.map((line) => slug(line.replace(/^#+ /, ''))))
}

test('every relative link in the README and docs/ resolves inside the repository', () => {
  const broken = []
  for (const document of documents) {
    const text = prose(readFileSync(join(root, document), 'utf8'))
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue
      const [path, anchor] = target.split('#')
      const file = path ? resolve(root, dirname(document), path) : join(root, document)
      if (!file.startsWith(root + '/') || !existsSync(file)) {
        broken.push(`${document}: ${target} (no file ${relative(root, file)})`)
      } else if (anchor && file.endsWith('.md') && !anchorsOf(file).has(anchor)) {
        broken.push(`${document}: ${target} (no heading #${anchor})`)
      }
    }
  }
  assert.deepEqual(broken, [])
})

test('the README stays a five-minute read', () => {
  const bytes = readFileSync(join(root, 'README.md')).length
  assert.ok(bytes <= 15 * 1024, `README.md is ${bytes} bytes, over 15 KB: move detail to docs/`)
})

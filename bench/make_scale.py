#!/usr/bin/env python3
"""Generate a large labelled benchmark corpus of news articles with planted reprints.

    python3 bench/make_scale.py --src DIR [--src DIR2 ...] --out OUT --n N
                                [--seed S] [--reprint-share F] [--max-reprints K]
                                [--jobs J] [--force]

    # the 1M-article corpus (about 2.5 GB), on both cores of a 2-core machine:
    python3 bench/make_scale.py --src target/data/reuters21578/docs \
        --src target/data/20news_bydate/docs --out target/data/scale1m --n 1000000 --jobs 2

    # score a clustering of it
    python3 ../shared/bench/score.py target/data/scale1m/labels.json PREDICTION.json

Output
  OUT/docs/SSSS/IIIIIII_<16 hex>.txt  exactly N articles, at most 1000 per shard folder; the
                                      zero-padded index I gives a stable natural order, and it
                                      says nothing about the stories (the slots are shuffled).
  OUT/labels.json                     base file name -> story id (a string), for every article.
                                      An article in no planted story has a story id of its own,
                                      so an ARI scorer (bench score.py) can use the file as is.
  OUT/meta.json                       parameters and counts (no timings: it is reproducible too).
  An existing non-empty OUT is refused unless --force, which replaces docs/, labels.json and
  meta.json in it (and nothing else).

Source text
  Every *.txt file under the --src folders (walked recursively, in sorted order) is cleaned
  (mail and news headers, quoted lines, signatures, tables dropped) and split into sentences.
  Sentences are kept when they look like prose (5-70 words, mostly letters, not upper case, with
  enough words that can be varied, see below) and are de-duplicated, ignoring case and digits, so
  a source corpus's own retransmissions and templates cannot plant unlabelled duplicates. The
  Reuters-21578 and 20 Newsgroups corpora give about 218,000 sentences.

Base articles (synthesised: N is far larger than the number of sources)
  A base article is a headline line (its first words, upper case, wire style) and 12-32
  sentences in paragraphs of 1-3: a run of 2-5 consecutive sentences of one source article (runs
  are handed out so that no two bases share one until all ~66,000 are used; after that a run is
  reused, partly), continued by single sentences drawn at random from the whole pool. Each
  sentence an article takes is its own copy: numbers re-rolled, and every 2nd or 3rd word that
  can be varied replaced -- a content word by a random corpus word of the same shape (lower case,
  Capitalised, UPPER), a function word by another of its class ("of" -> "in", "was" -> "has").
  The text reads like a garbled wire, but two articles that drew the same pool sentence share
  only a few words of it, so base articles are unrelated to each other (see Limits).

Planted stories
  A share (--reprint-share, default 0.30) of base articles become stories: the base plus 1..K
  reprints, heavy-tailed (P(r) ~ 1/r^2 up to --max-reprints K, default 15: mostly 1-3, a few up
  to 15; 2.1 on average). Each reprint is made the way newspapers reuse wire copy:
    wire      the body as it is (but for the light edits below) under a new headline line
    abridged  cut from the bottom, keeping the first 35-90% of the sentences
    brief     the first 2-4 sentences only
    edited    1-3 sentences dropped and 0-2 inserted, words deleted, inserted or re-cased at 2-6%
    ocr       OCR-like character noise at 2-8% (c/e, l/1, o/0, rn/m, h/b, ...) and words broken by
              column hyphenation; half of them abridged as well
    merged    abridged, followed by a passage (2-12 sentences) of text found nowhere else
  Every reprint has a new headline (sampled words of the lead, in one of three styles), sometimes
  a section line or a credit line, light word edits at 0-2%, and one in ten of the non-"ocr" ones
  a light scan noise. All documents of a story share one story id in labels.json.

Determinism, memory and speed
  Every article is computed from the seed and its place in the plan (which base article, which
  reprint of it) alone, with random.Random instances of its own (the global RNG is never used),
  so the same arguments and seed give byte-identical output whatever --jobs is. Work goes story
  by story: a base article is made once, then its reprints, each written to its slot's file at
  once. Memory holds the sentence pool and the plan (a few integers per article), never the
  output text. Progress goes to stderr every 10 seconds, and
  a summary line (files, stories, planted reprints, bytes, seconds) at the end. Reading the
  sources takes ~15 s; then, on the 2-core machine it was written on, ~1,800 files/s with one
  job and ~2,700 with --jobs 2 (N = 1M: about 10 and 6-7 minutes; file creation is a good part).

Limits (what the labels cannot promise)
  Base articles are built from a finite pool: with B base articles of ~22 sentences, a pool
  sentence recurs (as different copies) in about 22 * B / 218,000 articles -- ~60 at N = 1M -- and
  opening runs are reused past ~66,000 bases. The variation keeps such chance sharing to a few
  words, but now and then two unrelated articles share 15-25 words in short passages. The labels
  do not mark such pairs: they are the noise floor of the benchmark, tiny against the planted
  reprint pairs.
"""
import argparse
import json
import os
import random
import re
import shutil
import sys
import time
from array import array

# ---------------------------------------------------------------------------------------------
# Source loading and sentence pool

HEADER_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ")
ABBREV = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Inc|Corp|Co|Ltd|Bros|No|vs|Gen|Gov|Sen|Rep|Jan|Feb|Mar"
    r"|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|etc|e\.g|i\.e|U\.S|U\.K)\.|\b[A-Z]\.)$")
SENT_END = re.compile(r"[.!?][\"')\]]*\s+(?=[\"'(]?[A-Z0-9])")
DIGITS = re.compile(r"\d+")
WORD = re.compile(r"[A-Za-z]{2,}")
LOWER_WORD = re.compile(r"(?<![\w'-])[a-z]{3,}(?![\w'-])")
CAP_WORD = re.compile(r"(?<=[a-z,] )[A-Z][a-z]{2,}(?![\w'-])")  # mid-sentence: names
PUNCT = "\"'()[]{},.;:!?-"
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LETTERS = _UPPER + _UPPER.lower()


def n_letters(s):
    """ASCII letters in s (bytes.translate: C speed)."""
    b = s.encode("utf-8", "replace")
    return len(b) - len(b.translate(None, _LETTERS))


def n_upper(s):
    b = s.encode("utf-8", "replace")
    return len(b) - len(b.translate(None, _UPPER))


def iter_sources(dirs):
    """Paths of every *.txt under the given folders, folders in the given order, sorted within."""
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            for f in sorted(files):
                if f.endswith(".txt"):
                    yield os.path.join(root, f)


def clean_lines(text):
    """Paragraph strings of a source text without headers, quotes, signatures and tables."""
    lines = text.replace("\r", "").split("\n")
    # A mail/news header block: leading "Field: value" lines up to the first blank line.
    if lines and HEADER_LINE.match(lines[0]):
        for i, ln in enumerate(lines):
            if not ln.strip():
                lines = lines[i + 1:]
                break
        else:
            lines = []
    paras, cur = [], []
    for ln in lines:
        s = ln.strip()
        if s in ("--", "-- ") or s.startswith("-----") or s.startswith("_____"):
            break  # signature or trailer
        if not s:
            if cur:
                paras.append(" ".join(cur))
                cur = []
            continue
        if s[0] in ">|:}#" or s.endswith(("writes:", "wrote:")) or s.lower() in ("reuter", "reuters"):
            continue
        if n_letters(s) < 0.55 * len(s.encode("utf-8", "replace")):
            continue  # tables, ascii art, figures
        cur.append(s)
    if cur:
        paras.append(" ".join(cur))
    return paras


def split_sentences(para):
    out, start = [], 0
    for m in SENT_END.finditer(para):
        piece = para[start:m.end()].rstrip()
        if ABBREV.search(para[start:m.start() + 1]):
            continue  # "Mr. Smith", "U.S. Treasury": not a sentence end
        out.append(piece)
        start = m.end()
    tail = para[start:].strip()
    if tail:
        out.append(tail)
    return out


def good_sentence(s):
    words = s.split()
    if not 5 <= len(words) <= 70 or "\ufffd" in s:
        return False
    letters = n_letters(s)
    upper = n_upper(s)
    if letters < 0.6 * len(s.encode("utf-8", "replace")) or upper > 0.4 * letters:
        return False  # figures, or an upper-case headline
    if s[-1] not in ".!?\"')":
        return False
    return len(WORD.findall(s)) >= 0.6 * len(words)


def _word_info(w):
    """(words a tokenizer sees in w, vary() code of w or -1, 1 if a content word); words -1 for a
    token no sentence should have (31+ characters, or a chain of 3+ hyphens or slashes)."""
    n = 1 + w.count("-") + w.count("/")
    if len(w) > 30 or n > 3:
        return -1, -1, 0
    core = w.strip(PUNCT)
    low = core.lower()
    cls = FUNCTION_CLASS.get(low, 0)
    if cls == 0 and (len(core) < 3 or not core.isalpha() or low in STOP):
        return n, -1, 0
    shape = 2 if core.isupper() and len(core) > 1 else 1 if core[0].isupper() else 0
    return n, cls << 3 | (4 if len(core) < len(w) else 0) | shape, 0 if cls else 1


def variable_words(s, cache, max_gap=4):
    """The words of s that vary() may replace, each as an int: position << 7 | class << 3 |
    4 if punctuation sticks to the word | shape (0 lower, 1 Capitalised, 2 UPPER), where class 0
    is a content word (3+ letters, not a function word) and 1-8 a FUNCTION_CLASSES class. None
    when s has fewer than 3 content words or a stretch of more than max_gap words with nothing
    to vary (code, lists, addresses), or a very long token: such a sentence could not be kept
    apart from its copies. `cache` memoises _word_info()."""
    c, last, content, q = [], -1, 0, -1
    for p, w in enumerate(s.split(" ")):
        info = cache.get(w)
        if info is None:
            info = cache[w] = _word_info(w)
        n, code, is_content = info
        if n < 0:
            return None
        q += n  # position in words as a tokenizer counts them ("well-known" is two)
        if code < 0:
            continue
        if q - last > max_gap + 1:
            return None
        content += is_content
        c.append(p << 7 | code)
        last = q
    if content < 3 or q - last > max_gap or c[-1] >= 65536:
        return None
    return array("H", c)


def load_pool(dirs):
    """Return (sentences, variable words, runs, n_files): the de-duplicated sentence pool in
    source order, variable_words() of each, and the (start, length) runs of 2-5 consecutive
    sentences of one source used to open base articles."""
    rng = random.Random(0x5EED)  # chunking only; independent of --seed so the pool is fixed
    sents, cands, runs, seen, n_files, wcache = [], [], [], set(), 0, {}
    for path in iter_sources(dirs):
        n_files += 1
        with open(path, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        first = len(sents)
        for para in clean_lines(text):
            for s in split_sentences(" ".join(para.split())):
                if not good_sentence(s):
                    continue
                key = DIGITS.sub("#", s.lower())
                if key in seen:
                    continue
                seen.add(key)
                c = variable_words(s, wcache)
                if c is None:
                    continue
                sents.append(s)
                cands.append(c)
        # Consecutive runs of this source's surviving sentences, disjoint.
        i, end = first, len(sents)
        while end - i >= 2:
            n = min(end - i, rng.randint(2, 5))
            if end - i - n == 1:
                n += 1
            runs.append((i, n))
            i += n
    return sents, cands, runs, n_files


# ---------------------------------------------------------------------------------------------
# Text synthesis helpers

STOP = {"the", "a", "an", "of", "to", "in", "and", "or", "for", "on", "at", "by", "with", "is",
        "was", "it", "that", "this", "as", "be", "are", "from", "its", "he", "she", "they", "we",
        "i", "said", "has", "have", "had", "not", "but", "will", "would", "which", "their", "his"}
# Function words vary() swaps within their class (which keeps sentences grammatical-looking).
FUNCTION_CLASSES = (
    "the a an this that these those its their his her our some any each every",
    "of in on at for with by from to into over under about after before through during against",
    "and or but yet",
    "he she it they we you i",
    "is was are were be been has have had will would could should may might can must",
    "not also just only even still very more most then now when where while because if as than",
    "said says told added stated noted reported announced",
    "don't can't won't isn't wasn't doesn't didn't haven't i'm it's that's there's i've you're")
FUNCTION_CLASS = {w: k for k, ws in enumerate(FUNCTION_CLASSES, 1) for w in ws.split()}
FUNCTION_ALTS = {w: [x for x in ws.split() if x != w] for ws in FUNCTION_CLASSES for w in ws.split()}
FUNCTION_LISTS = (None,) + tuple(tuple(ws.split()) for ws in FUNCTION_CLASSES)
FILLERS = ["also", "now", "then", "the", "still", "reportedly", "however", "further", "said",
           "meanwhile", "again", "already", "only", "last"]
CREDITS = ["From wire reports", "By a staff correspondent", "Compiled from agency reports",
           "(Wire service)", "Special to the Daily", "Associated wire copy", "News services"]
SECTIONS = ["BUSINESS", "WORLD", "NATION", "MARKETS", "LOCAL", "IN BRIEF", "TECHNOLOGY", "OPINION"]
# OCR confusions: single characters and the pairs a scanner merges or splits.
OCR_1 = {"c": "e", "e": "c", "l": "1", "1": "l", "o": "0", "0": "o", "h": "b", "b": "h",
         "i": "l", "u": "n", "n": "u", "S": "5", "5": "S", "B": "8", "f": "t", "t": "f",
         "a": "o", "m": "rn", "w": "vv", "d": "cl", "I": "l", "O": "0", ",": ".", ".": ","}


def reroll_numbers(s, rng):
    """Replace the digits of s with random digits (years 19xx/20xx kept), same widths."""
    rnd = rng.random

    def sub(m):
        d = m.group()
        n = len(d)
        if n == 4 and d[:2] in ("19", "20"):
            return d
        lo = 10 ** (n - 1) if n > 1 else 1
        return str(lo + int(rnd() * (10 ** n - lo)))
    return DIGITS.sub(sub, s)


def headline_from(sents, rng, style):
    """A headline of 4-10 content words taken from the given sentences."""
    words = [w.strip(".,;:!?\"'()[]") for w in " ".join(sents).split()]
    words = [w for w in words if len(w) > 2 and w.lower() not in STOP and w.isascii()] or ["NEWS"]
    k = min(len(words), rng.randint(4, 10))
    if style == 0:  # in order, from the lead: the wire's own slug
        pick = words[:k]
    else:  # a desk's rewrite: sampled, reordered
        pick = rng.sample(words, k)
    h = " ".join(pick)
    if style == 0 or style == 1:
        return h.upper()
    if style == 2:
        return " ".join(w[:1].upper() + w[1:] for w in h.split())
    return h[:1].upper() + h[1:]


def paragraphs(sents, rng):
    """Group sentences into paragraphs of 1-3 sentences; returns the body text."""
    out, i, rnd = [], 0, rng.random
    while i < len(sents):
        n = (1, 2, 2, 3)[int(rnd() * 4)]
        out.append(" ".join(sents[i:i + n]))
        i += n
    return "\n\n".join(out)


def edit_words(text, rng, rate):
    """Delete, insert or re-case words at about `rate` of the words (skip sampling: O(edits))."""
    if rate <= 0:
        return text
    words = text.split(" ")
    n = len(words)
    pos = int(rng.expovariate(rate))
    inserts = {}
    while pos < n:
        w = words[pos]
        r = rng.random()
        if "\n" in w or not w:
            pass
        elif r < 0.35:
            words[pos] = ""  # deletion (joined away below)
        elif r < 0.7:
            inserts[pos] = rng.choice(FILLERS)
        elif w[0].isupper():
            words[pos] = w.lower()
        elif w[0].isalpha():
            words[pos] = w[0].upper() + w[1:]
        pos += 1 + int(rng.expovariate(rate))
    if inserts:
        for p in sorted(inserts, reverse=True):
            words.insert(p + 1, inserts[p])
    return " ".join(w for w in words if w)


def ocr_noise(text, rng, rate):
    """Character confusions at about `rate` of the characters, and some words broken by column
    hyphenation ("-\\n" inside a word) at about rate/3 of the words."""
    chars = list(text)
    n = len(chars)
    pos = int(rng.expovariate(rate))
    while pos < n:
        # move to the next character the scanner can confuse (at most a few steps)
        for p in range(pos, min(n, pos + 4)):
            c = chars[p]
            if c in OCR_1:
                chars[p] = OCR_1[c]
                break
            if c == "r" and p + 1 < n and chars[p + 1] == "n":
                chars[p], chars[p + 1] = "m", ""  # rn -> m
                break
        pos += 1 + int(rng.expovariate(rate))
    text = "".join(chars)
    # broken hyphenation
    words = text.split(" ")
    hrate = rate / 3
    pos = int(rng.expovariate(hrate))
    while pos < len(words):
        w = words[pos]
        if len(w) >= 6 and w.isalpha():
            cut = rng.randint(2, len(w) - 3)
            words[pos] = w[:cut] + rng.choice(("-\n", "- ", "-\n")) + w[cut:]
        pos += 1 + int(rng.expovariate(hrate))
    return " ".join(words)


# ---------------------------------------------------------------------------------------------
# Corpus model

def ri(rng, lo, hi):
    """rng.randint(lo, hi), several times faster (hot paths only)."""
    return lo + int(rng.random() * (hi - lo + 1))


class Corpus:
    def __init__(self, sents, cands, runs, seed, runs_order):
        self.sents = sents
        self.ns = len(sents)
        self.runs = runs
        self.seed = seed
        self.order = runs_order  # the order in which the runs open base articles
        # Replacement words for vary(), from every 3rd sentence, so frequent words stay frequent:
        # lower-case content words, and capitalised words seen mid-sentence (mostly names).
        sample = " ".join(sents[::3])
        self.lows = [w for w in LOWER_WORD.findall(sample) if w not in STOP] or ["report"]
        self.caps = [w for w in CAP_WORD.findall(sample) if w.lower() not in STOP] or ["Reuters"]
        self.cands = cands  # variable_words() of each sentence: what vary() may replace
        self.digits = bytearray(1 if DIGITS.search(s) else 0 for s in sents)

    def base(self, b):
        """The base article b: (headline, sentences, rng). Same b, same seed -> same article."""
        rng = random.Random("%d/base/%d" % (self.seed, b))
        rnd = rng.random
        ns = self.ns
        start, n = self.runs[self.order[b % len(self.order)]]
        if b >= len(self.order) and n > 2:  # a reused run: open with a different part of it
            k = ri(rng, 2, n)
            start += ri(rng, 0, n - k)
            n = k
        idx = list(range(start, start + n))
        # Continued by single sentences from anywhere in the pool: two unrelated articles then
        # rarely share more than one (varied) sentence.
        idx.extend(int(rnd() * ns) for _ in range(ri(rng, 12, 32) - n))
        vary = self.vary
        out = [vary(i, rng) for i in idx]
        head = headline_from(out[:2], rng, 0)
        return head, out, rng

    def vary(self, i, rng):
        """This article's own copy of pool sentence i: numbers re-rolled, and every 2nd or 3rd
        variable word (from a random offset) replaced: a content word by a corpus word of the same
        shape, a function word by another of its class. Two copies of one sentence then share
        hardly any 5-word shingle, so articles that drew the same pool sentence are not reprints
        of each other."""
        s = self.sents[i]
        if self.digits[i]:
            s = reroll_numbers(s, rng)
        cands = self.cands[i]
        rnd = rng.random
        words = s.split(" ")
        lows, caps = self.lows, self.caps
        nl, nc = len(lows), len(caps)
        step = 2 if rnd() < 0.5 else 3
        for c in cands[int(rnd() * step)::step]:
            p = c >> 7
            cls = c >> 3 & 15
            shape = c & 3
            if cls:  # a function word: another of its class ("of" -> "in", "was" -> "has")
                w = words[p]
                core = w.strip(PUNCT) if c & 4 else w
                alts = FUNCTION_LISTS[cls]
                r = alts[int(rnd() * len(alts))]
                if r == core or r == core.lower():
                    r = FUNCTION_ALTS[r][0]
                if shape == 1:
                    r = r[0].upper() + r[1:]
                elif shape == 2:
                    r = r.upper()
            else:
                if shape == 0:
                    r = lows[int(rnd() * nl)]
                else:
                    r = caps[int(rnd() * nc)]
                    if shape == 2:
                        r = r.upper()
                if not c & 4:
                    words[p] = r
                    continue
                w = words[p]
                core = w.strip(PUNCT)
            if c & 4:
                k = w.find(core)
                words[p] = w[:k] + r + w[k + len(core):]
            else:
                words[p] = r
        return " ".join(words)

    def passage(self, rng, n):
        """This article's copy of n consecutive pool sentences from a random place."""
        j = int(rng.random() * max(1, self.ns - n))
        return [self.vary(i, rng) for i in range(j, min(self.ns, j + n))]


KINDS = ("wire", "abridged", "brief", "edited", "ocr", "merged")
KIND_WEIGHTS = (2, 3, 2, 2, 2, 1.5)


def render_reprint(corpus, b, k, head, sents, body_base):
    """Reprint k (1-based) of base article b (headline, sentences, body text), and its kind."""
    rng = random.Random("%d/reprint/%d/%d" % (corpus.seed, b, k))
    kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
    if kind == "wire":
        body = body_base
    else:
        s = list(sents)
        if kind in ("abridged", "merged", "ocr") and len(s) > 3 and (kind != "ocr" or rng.random() < 0.5):
            s = s[:max(2, int(round(len(s) * rng.uniform(0.35, 0.9))))]
        elif kind == "brief":
            s = s[:rng.randint(2, 4)]
        elif kind == "edited":
            for _ in range(rng.randint(1, 3)):
                if len(s) > 4:
                    s.pop(rng.randrange(1, len(s)))
            for _ in range(rng.randint(0, 2)):
                s.insert(rng.randrange(1, len(s) + 1), *corpus.passage(rng, 1))
        if kind == "merged":
            s = s + corpus.passage(rng, max(2, min(12, len(s) // 3)))
        body = paragraphs(s, rng)
    # light copy-desk edits on every reprint, heavier on "edited"
    rate = rng.uniform(0.02, 0.06) if kind == "edited" else rng.choice((0.0, 0.005, 0.01, 0.02))
    body = edit_words(body, rng, rate)
    style = rng.randint(1, 3)
    new_head = headline_from(sents[:3], rng, style)
    if new_head == head:
        new_head = new_head.title() + " (update)"
    top = new_head
    if rng.random() < 0.25:
        top = rng.choice(SECTIONS) + "\n" + top
    if rng.random() < 0.2:
        body = rng.choice(CREDITS) + "\n\n" + body
    text = top + "\n\n" + body + "\n"
    if kind == "ocr":
        text = ocr_noise(text, rng, rng.uniform(0.02, 0.08))
    elif rng.random() < 0.1:
        text = ocr_noise(text, rng, rng.uniform(0.003, 0.01))  # a slightly noisy scan
    return text, kind


# ---------------------------------------------------------------------------------------------
# Plan: which base/reprint goes to which slot

def reprint_count(rng, kmax, cdf):
    u = rng.random()
    for r, c in enumerate(cdf, 1):
        if u <= c:
            return r
    return kmax


def make_plan(n, seed, share, kmax):
    """Slots in output order: each an int (base << 5) | k, k = 0 for the base, k >= 1 reprint."""
    rng = random.Random("%d/plan" % seed)
    w = [1.0 / r ** 2 for r in range(1, kmax + 1)]
    tot, acc, cdf = sum(w), 0.0, []
    for x in w:
        acc += x / tot
        cdf.append(acc)
    slots = array("q")
    b = 0
    while len(slots) < n:
        left = n - len(slots)
        r = reprint_count(rng, kmax, cdf) if rng.random() < share else 0
        r = min(r, left - 1)
        for k in range(r + 1):
            slots.append((b << 5) | k)
        b += 1
    order = list(slots)
    rng.shuffle(order)
    return array("q", order), b


def name_widths(n):
    return max(7, len(str(n - 1))), max(4, len(str((n - 1) // 1000)))


def doc_path(i, seed, widths):
    """(shard folder, file name) of slot i."""
    iw, sw = widths
    h = random.Random("%d/name/%d" % (seed, i)).getrandbits(64)
    shard = "%0*d" % (sw, i // 1000)
    name = "%0*d_%016x.txt" % (iw, i, h)
    return shard, name


def story_order(plan, n_bases):
    """(first, slot_of): the documents of base b are slot_of[first[b]:first[b + 1]], the base
    article first, then its reprints in order."""
    first = array("q", [0]) * (n_bases + 1)
    for v in plan:
        first[(v >> 5) + 1] += 1
    for b in range(n_bases):
        first[b + 1] += first[b]
    slot_of = array("q", [0]) * len(plan)
    for i, v in enumerate(plan):
        slot_of[first[v >> 5] + (v & 31)] = i
    return first, slot_of


def write_file(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        wrote = os.write(fd, data)
        while wrote < len(data):
            wrote += os.write(fd, data[wrote:])
    finally:
        os.close(fd)


def generate_bases(corpus, first, slot_of, blo, bhi, out_docs, seed, widths):
    """Write the documents of base articles blo..bhi-1 (each base made once, then its reprints),
    each to its own slot's file; return (documents, bytes, reprint kind counts)."""
    kinds = dict.fromkeys(KINDS, 0)
    total = docs = 0
    for b in range(blo, bhi):
        head, sents, rng = corpus.base(b)
        body = paragraphs(sents, rng)
        for j in range(first[b], first[b + 1]):
            k = j - first[b]
            if k == 0:
                text = head + "\n\n" + body + "\n"
            else:
                text, kind = render_reprint(corpus, b, k, head, sents, body)
                kinds[kind] += 1
            shard, name = doc_path(slot_of[j], seed, widths)
            data = text.encode("utf-8")
            write_file(os.path.join(out_docs, shard, name), data)
            total += len(data)
            docs += 1
    return docs, total, kinds


_G = {}  # what the workers need, set before they fork


def _worker(bounds):
    g = _G
    return generate_bases(g["corpus"], g["first"], g["slot_of"], bounds[0], bounds[1],
                          g["out_docs"], g["seed"], g["widths"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring for what is planted.")
    ap.add_argument("--src", action="append", required=True, metavar="DIR",
                    help="folder of source articles (*.txt, walked recursively); repeatable")
    ap.add_argument("--out", required=True, help="output folder (gets docs/ and labels.json)")
    ap.add_argument("--n", type=int, required=True, help="number of articles to write")
    ap.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default 1)")
    ap.add_argument("--reprint-share", type=float, default=0.30, metavar="F",
                    help="share of base articles that get reprints (default 0.30)")
    ap.add_argument("--max-reprints", type=int, default=15, metavar="K",
                    help="most reprints of one story (default 15, at most 31)")
    ap.add_argument("--jobs", type=int, default=1, metavar="J",
                    help="worker processes (default 1); the output does not depend on it")
    ap.add_argument("--force", action="store_true",
                    help="replace OUT/docs, OUT/labels.json and OUT/meta.json if OUT is not empty")
    a = ap.parse_args()

    def fail(msg):
        print("make_scale: error: " + msg, file=sys.stderr)
        sys.exit(2)

    if a.n < 1:
        fail("--n must be at least 1")
    if not 0 <= a.reprint_share <= 1:
        fail("--reprint-share must be between 0 and 1")
    if not 1 <= a.max_reprints <= 31:
        fail("--max-reprints must be between 1 and 31")
    for d in a.src:
        if not os.path.isdir(d):
            fail("--src %s: no such folder" % d)
    out_real = os.path.realpath(a.out)
    for d in a.src:
        d_real = os.path.realpath(d)
        if os.path.commonpath([d_real, out_real]) in (d_real, out_real):
            fail("--src %s and --out %s overlap; write the corpus somewhere else" % (d, a.out))
    if os.path.exists(a.out) and not os.path.isdir(a.out):
        fail("--out %s exists and is not a folder" % a.out)
    if os.path.isdir(a.out) and os.listdir(a.out):
        if not a.force:
            fail("--out %s exists and is not empty; pass --force to replace its docs/ and labels.json"
                 % a.out)

    t0 = time.time()
    sents, cands, runs, n_files = load_pool(a.src)
    if n_files == 0:
        fail("no *.txt files under " + ", ".join(a.src))
    if len(sents) < 100 or not runs:
        fail("too little usable text in the sources (%d sentences)" % len(sents))
    print("make_scale: %d source files -> %d sentences, %d opening runs (%.1fs)"
          % (n_files, len(sents), len(runs), time.time() - t0), file=sys.stderr, flush=True)

    order = list(range(len(runs)))
    random.Random("%d/runs" % a.seed).shuffle(order)
    corpus = Corpus(sents, cands, runs, a.seed, order)
    plan, n_bases = make_plan(a.n, a.seed, a.reprint_share, a.max_reprints)
    widths = name_widths(a.n)
    out_docs = os.path.join(a.out, "docs")
    if a.force:  # only now that the sources have been read
        shutil.rmtree(out_docs, ignore_errors=True)
        for f in ("labels.json", "meta.json"):
            if os.path.exists(os.path.join(a.out, f)):
                os.remove(os.path.join(a.out, f))
    os.makedirs(out_docs, exist_ok=True)

    for s in range((a.n - 1) // 1000 + 1):
        os.makedirs(os.path.join(out_docs, "%0*d" % (widths[1], s)), exist_ok=True)
    first, slot_of = story_order(plan, n_bases)
    _G.update(corpus=corpus, first=first, slot_of=slot_of, out_docs=out_docs, seed=a.seed,
              widths=widths)
    step = 3000  # base articles per task (about 5,000 files)
    tasks = [(lo, min(n_bases, lo + step)) for lo in range(0, n_bases, step)]
    total, done, kinds = 0, 0, dict.fromkeys(KINDS, 0)
    t1 = last = time.time()
    pool = None
    if a.jobs > 1:
        import multiprocessing as mp
        pool = mp.get_context("fork").Pool(a.jobs)  # the workers inherit the pool and the plan
        results = pool.imap(_worker, tasks)
    else:
        results = map(_worker, tasks)
    try:
        for ndocs, nbytes, kd in results:
            done += ndocs
            total += nbytes
            for kk, vv in kd.items():
                kinds[kk] += vv
            now = time.time()
            if now - last >= 10:
                last = now
                print("make_scale: %d/%d files, %.0f MB, %.0f files/s" % (
                    done, a.n, total / 1e6, done / (now - t1)), file=sys.stderr, flush=True)
    except BaseException:
        if pool is not None:
            pool.terminate()
            pool.join()
        raise
    if pool is not None:
        pool.close()
        pool.join()
    del first, slot_of

    # Labels: story id per slot. A base with reprints and a singleton both use "s<base>".
    sizes = {}
    for v in plan:
        b = v >> 5
        sizes[b] = sizes.get(b, 0) + 1
    sw = len(str(n_bases - 1))
    with open(os.path.join(a.out, "labels.json"), "w", encoding="utf-8") as fh:
        fh.write("{\n")
        for i in range(a.n):
            _, name = doc_path(i, a.seed, widths)
            fh.write('"%s": "s%0*d"%s\n' % (name, sw, plan[i] >> 5, "," if i + 1 < a.n else ""))
        fh.write("}\n")
    stories = sum(1 for c in sizes.values() if c > 1)
    reprints = a.n - n_bases
    biggest = max(sizes.values())
    meta = {"n": a.n, "seed": a.seed, "reprint_share": a.reprint_share,
            "max_reprints": a.max_reprints, "sources": list(a.src),
            "source_files": n_files, "pool_sentences": len(sents), "opening_runs": len(runs),
            "base_articles": n_bases, "stories_with_reprints": stories,
            "singletons": n_bases - stories, "planted_reprints": reprints,
            "largest_story": biggest, "reprint_kinds": kinds, "bytes": total}
    with open(os.path.join(a.out, "meta.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
        fh.write("\n")
    secs = time.time() - t0
    print("make_scale: done: %d files, %d stories with reprints (%d label ids incl. singletons), "
          "%d planted reprints, %d bytes (avg %.0f B/file), %.1f seconds"
          % (a.n, stories, n_bases, reprints, total, total / a.n, secs), file=sys.stderr)


if __name__ == "__main__":
    main()

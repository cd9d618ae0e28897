//! Micro-benchmarks of the hot stages, on the Bakhmut fixture's text:
//! tokenize+normalise, shingle hashing, MinHash sketching, winnowing,
//! candidate generation and verification.
//!
//!     cargo bench --bench stages

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use storyclust::{candidates, hash, minhash, shingle, tokenize, verify};

fn corpus() -> Vec<String> {
    let mut v = Vec::new();
    for f in std::fs::read_dir("fixtures/bakhmut").unwrap() {
        v.push(std::fs::read_to_string(f.unwrap().path()).unwrap());
    }
    v.sort();
    v
}

fn stages(c: &mut Criterion) {
    let texts = corpus();
    let bytes: usize = texts.iter().map(String::len).sum();
    let tok = tokenize::Tokenizer {
        seed: 1,
        ocr_fold: true,
    };
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("tokenize+normalize", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(tok.tokenize(black_box(t)));
            }
        })
    });
    g.bench_function("segmentation only (UAX#29)", |b| {
        use unicode_segmentation::UnicodeSegmentation;
        b.iter(|| {
            for t in &texts {
                black_box(black_box(t).unicode_word_indices().count());
            }
        })
    });
    let plain = tokenize::Tokenizer {
        seed: 1,
        ocr_fold: false,
    };
    g.bench_function("tokenize+normalize without OCR folding", |b| {
        b.iter(|| {
            for t in &texts {
                black_box(plain.tokenize(black_box(t)));
            }
        })
    });
    let tokens: Vec<Vec<tokenize::Token>> = texts.iter().map(|t| tok.tokenize(t)).collect();
    g.bench_function("shingle hashing", |b| {
        b.iter(|| {
            for t in &tokens {
                black_box(shingle::shingles(black_box(t), 5, 2));
            }
        })
    });
    let shingles: Vec<Vec<u64>> = tokens.iter().map(|t| shingle::shingles(t, 5, 2)).collect();
    let br = minhash::optimal_bands_rows(0.5, 128);
    g.bench_function("minhash sketch + band keys", |b| {
        b.iter(|| {
            for s in &shingles {
                let sig = minhash::signature(black_box(s), 128, 3);
                black_box(minhash::band_keys(&sig, br, 4));
            }
        })
    });
    g.bench_function("winnowing", |b| {
        b.iter(|| {
            for s in &shingles {
                black_box(shingle::winnow(black_box(s), 4));
            }
        })
    });
    let views: Vec<verify::Shingled> = shingles
        .iter()
        .zip(&tokens)
        .map(|(s, t)| verify::Shingled::new(t.len() as u32, s.clone()))
        .collect();
    g.bench_function("verify all pairs", |b| {
        b.iter(|| {
            for x in 0..views.len() {
                for y in x + 1..views.len() {
                    black_box(verify::overlap(
                        &views[x],
                        &views[y],
                        &verify::Stock::default(),
                        5,
                    ));
                }
            }
        })
    });
    g.finish();

    // Candidate generation on a synthetic index: 20,000 documents of 60
    // fingerprints drawn from a vocabulary of 400,000, so postings are short.
    let mut x = 7u64;
    let fps: Vec<Vec<u64>> = (0..20_000)
        .map(|_| {
            let mut v: Vec<u64> = (0..60)
                .map(|_| {
                    x = hash::splitmix64(x);
                    x % 400_000
                })
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    let bands: Vec<Vec<u64>> = (0..20_000u64)
        .map(|d| vec![hash::splitmix64(d); 25])
        .collect();
    let mut g = c.benchmark_group("candidates");
    g.sample_size(10);
    g.bench_function("20k docs x 60 fingerprints", |b| {
        b.iter(|| black_box(candidates::candidates(&fps, &bands, 100, 2)))
    });
    g.finish();
    // Run once at the start of every run, before any article is read.
    let mut g = c.benchmark_group("setup");
    g.bench_function("LSH bands x rows search (t 0.5, 128 permutations)", |b| {
        b.iter(|| black_box(minhash::optimal_bands_rows(black_box(0.5), 128)))
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);

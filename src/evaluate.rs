//! Quality against gold labels: ARI and pairwise precision, recall and F1.
//!
//! Gold labels map a file name to a story id (the `labels.json` format of the
//! benchmark corpora); names are compared by base name. Only labelled files
//! are scored; a labelled file in no predicted story counts as a singleton,
//! as `score.py` does. ARI is Hubert & Arabie's adjusted Rand index over
//! article pairs.

use std::collections::HashMap;
use std::path::Path;

use crate::Outcome;

/// A labelled pair the clustering got wrong.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PairError {
    /// One article.
    pub a: String,
    /// The other.
    pub b: String,
    /// For a wrong merge: the story that holds both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub story: Option<String>,
    /// For a wrong merge: a passage the two share, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passage: Option<String>,
}

/// Scores of a clustering against gold labels.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Evaluation {
    /// Labelled articles scored.
    pub documents: u64,
    /// Labelled files not found in the input.
    pub missing: u64,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Pairwise precision.
    pub precision: f64,
    /// Pairwise recall.
    pub recall: f64,
    /// Pairwise F1.
    pub f1: f64,
    /// Gold pairs not put in one story.
    pub missed_pairs: u64,
    /// Pairs put in one story that gold keeps apart.
    pub wrong_pairs: u64,
    /// Some missed pairs (up to 10).
    pub worst_missed: Vec<PairError>,
    /// Some wrong merges (up to 10), with a passage that tied them.
    pub worst_wrong: Vec<PairError>,
}

fn pairs(n: u64) -> f64 {
    (n * n.saturating_sub(1) / 2) as f64
}

/// Parses a labels file: a JSON object from file name to story id (number or string).
pub fn parse_labels(json: &str) -> Result<HashMap<String, String>, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let obj = v
        .as_object()
        .ok_or("expected an object mapping file name to story id")?;
    obj.iter()
        .map(|(k, v)| {
            let id = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                other => {
                    return Err(format!(
                        "story id of {k} is {other}, not a number or string"
                    ));
                }
            };
            let base = Path::new(k)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| k.clone());
            Ok((base, id))
        })
        .collect()
}

/// Scores `o` against `labels` (base name → story id).
pub fn evaluate(o: &Outcome, labels: &HashMap<String, String>) -> Evaluation {
    let base = |p: &Path| {
        p.file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut predicted: HashMap<String, usize> = HashMap::new();
    for (si, s) in o.stories.iter().enumerate() {
        for m in &s.members {
            predicted.insert(base(&o.documents[m.doc as usize].path), si);
        }
    }
    let present: std::collections::HashSet<String> =
        o.documents.iter().map(|d| base(&d.path)).collect();
    let mut names: Vec<&String> = labels.keys().collect();
    names.sort();
    // Cluster of each labelled name: a predicted story or its own singleton.
    let pred_of = |n: &String| -> (bool, usize, String) {
        match predicted.get(n) {
            Some(&s) => (true, s, String::new()),
            None => (false, 0, n.clone()),
        }
    };
    let mut both: HashMap<(&String, (bool, usize, String)), u64> = HashMap::new();
    let mut gold: HashMap<&String, u64> = HashMap::new();
    let mut pred: HashMap<(bool, usize, String), u64> = HashMap::new();
    for n in &names {
        let g = &labels[*n];
        let p = pred_of(n);
        *both.entry((g, p.clone())).or_default() += 1;
        *gold.entry(g).or_default() += 1;
        *pred.entry(p).or_default() += 1;
    }
    let tp: f64 = both.values().map(|&c| pairs(c)).sum();
    let tt: f64 = gold.values().map(|&c| pairs(c)).sum();
    let pp: f64 = pred.values().map(|&c| pairs(c)).sum();
    let total = pairs(names.len() as u64);
    let expected = if total > 0.0 { tt * pp / total } else { 0.0 };
    let max = (tt + pp) / 2.0;
    let ari = if max != expected {
        (tp - expected) / (max - expected)
    } else {
        1.0
    };
    let precision = if pp > 0.0 { tp / pp } else { 1.0 };
    let recall = if tt > 0.0 { tp / tt } else { 1.0 };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    // Examples of errors, in name order.
    let mut worst_wrong = Vec::new();
    for (i, s) in o.stories.iter().enumerate() {
        let ms: Vec<(usize, String)> = s
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (i, base(&o.documents[m.doc as usize].path)))
            .filter(|(_, n)| labels.contains_key(n))
            .collect();
        for x in 0..ms.len() {
            for y in x + 1..ms.len() {
                if worst_wrong.len() >= 10 || labels[&ms[x].1] == labels[&ms[y].1] {
                    continue;
                }
                let passage = o
                    .story(i)
                    .passages
                    .iter()
                    .find(|p| {
                        p.occurrences.iter().any(|oc| oc.member as usize == ms[x].0)
                            && p.occurrences.iter().any(|oc| oc.member as usize == ms[y].0)
                    })
                    .map(|p| p.text.clone());
                worst_wrong.push(PairError {
                    a: ms[x].1.clone(),
                    b: ms[y].1.clone(),
                    story: Some(s.id.clone()),
                    passage,
                });
            }
        }
    }
    let mut by_gold: HashMap<&String, Vec<&String>> = HashMap::new();
    for n in &names {
        by_gold.entry(&labels[*n]).or_default().push(n);
    }
    let mut golds: Vec<_> = by_gold.into_iter().collect();
    golds.sort();
    let mut worst_missed = Vec::new();
    'outer: for (_, ns) in golds {
        for x in 0..ns.len() {
            for y in x + 1..ns.len() {
                if worst_missed.len() >= 10 {
                    break 'outer;
                }
                if pred_of(ns[x]) != pred_of(ns[y]) {
                    worst_missed.push(PairError {
                        a: ns[x].clone(),
                        b: ns[y].clone(),
                        story: None,
                        passage: None,
                    });
                }
            }
        }
    }
    Evaluation {
        documents: names.len() as u64,
        missing: names.iter().filter(|n| !present.contains(**n)).count() as u64,
        ari,
        precision,
        recall,
        f1,
        missed_pairs: (tt - tp).round() as u64,
        wrong_pairs: (pp - tp).round() as u64,
        worst_missed,
        worst_wrong,
    }
}

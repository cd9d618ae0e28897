//! Stage 9: renderers. Each turns an [`Outcome`](crate::Outcome) into bytes on
//! any `io::Write` and does nothing else, so each is tested by rendering into
//! a `Vec<u8>`.

pub mod explain;
pub mod html;
pub mod index;
pub mod json;
pub mod sanitize;
pub mod text;

/// What the renderers are asked to show.
#[derive(Clone, Copy, Debug, Default)]
pub struct View {
    /// List singletons too.
    pub all: bool,
    /// Passages shown per story in text output (0: all).
    pub passages: usize,
    /// Use ANSI colours.
    pub color: bool,
    /// Show parameters and per-stage figures.
    pub verbose: bool,
    /// Leave timings out (for byte-identical output).
    pub no_timings: bool,
    /// Terminal width in columns for the text report (0: not a terminal, no limit).
    pub width: usize,
}

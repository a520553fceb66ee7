//! Halle's distribution computations, pure functions of what the store loads: slot recurrence
//! across daylight-saving changes, per-producer picking lists and labels, per-slot distribution
//! sheets, the pricing of variable-weight lines, receipts and producers' settlements, and
//! co-delivery rounds.
//!
//! No I/O, no clock, no randomness that is not seeded: the same input always gives the same
//! output, so the lists of a closed cycle are reproducible byte for byte.

pub mod directory;
pub mod model;
pub mod picking;
pub mod pricing;
pub mod receipt;
pub mod routing;
pub mod settlement;
pub mod sheet;
pub mod slots;

pub use model::*;
pub use picking::*;
pub use pricing::*;
pub use receipt::*;
pub use settlement::*;
pub use sheet::*;
pub use slots::*;

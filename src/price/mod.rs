//! Prices (the price book) and what the snapshot costs under them (the cost model).

pub mod book;
pub mod live;
pub mod model;
pub mod source;

pub use book::{Item, PriceBook};

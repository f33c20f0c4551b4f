//! Prices (the price book) and what the snapshot costs under them (the cost model).

pub mod book;
pub mod model;

pub use book::{Item, PriceBook};

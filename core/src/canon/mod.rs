//! TODO
pub mod canonical;
pub mod hash;
pub mod merkle;
pub mod numbers;
pub mod tar;
pub mod time;

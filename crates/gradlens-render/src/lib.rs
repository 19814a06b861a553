//! Turns an [`Explanation`] (and a surrogate tree) into things people look at. Everything here reads only
//! the result types.

pub mod chart;
pub mod color;
pub mod highlight;
pub mod html;
pub mod tree;

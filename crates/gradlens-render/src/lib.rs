//! Turns an [`Explanation`] into things people look at. Everything here reads only the result type.

pub mod chart;
pub mod color;
pub mod highlight;
pub mod html;
